"""`socialpulse drain`: wait until the worker has consumed and committed everything (I/O), and say so when a
partition's commit stops moving while the group works (docs/guarantees.md, "Offsets")."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from pipeline.adapters.kafka.admin import partition_offsets
from pipeline.settings import Settings

Key = tuple[str, int]


@dataclass
class StallWatch:
    """Partitions whose committed offset has not moved for `after` seconds although they have lag while other
    partitions of the group did move (the group is working, this partition's commits are not)."""

    after: float = 60.0
    since: dict[Key, tuple[int, float]] = field(default_factory=dict)  # committed offset, when it last moved
    moved_at: Optional[float] = None  # when any partition's commit last moved
    reported: set[Key] = field(default_factory=set)

    def observe(self, offsets: dict[Key, tuple[int, int]], now: float) -> list[tuple[Key, int, int, float]]:
        """Feed one poll; return the partitions newly found stalled: (key, committed, end, seconds unmoved)."""
        if self.moved_at is None:
            self.moved_at = now
        found = []
        for key, (done, end) in offsets.items():
            last = self.since.get(key)
            if last is None or last[0] != done:
                if last is not None:
                    self.moved_at = now
                self.since[key] = (done, now)
                self.reported.discard(key)
                continue
            unmoved = now - last[1]
            if end > done and unmoved >= self.after and key not in self.reported and self.moved_at > last[1]:
                self.reported.add(key)
                found.append((key, done, end, unmoved))
        return found


def describe_stall(key: Key, done: int, end: int, unmoved: float) -> str:
    return (f"stalled: {key[0]}[{key[1]}] committed at {done:,} of {end:,}, not moved for {unmoved:.0f}s while "
            "other partitions commit (see docs/guarantees.md, 'Offsets'; restart the worker that owns it)")


def wait_drained(s: Settings, *, timeout: float = 300.0, echo: Optional[Callable[[str], None]] = None,
                 settle: int = 2, stall_after: float = 60.0) -> dict[str, int]:
    """Poll the consumer group's lag until it is zero `settle` times in a row; return {} or the last lag per topic.
    A partition whose commit does not move for `stall_after` seconds while others do is reported through `echo`.

    Zero lag on the sink's topics means ClickHouse has the rows: the sink commits only after inserting."""
    deadline = time.monotonic() + timeout
    zero_in_a_row, last_print, lag = 0, 0.0, {}
    watch = StallWatch(stall_after)
    while time.monotonic() < deadline:
        offsets = partition_offsets(s)
        lag = {}
        for (topic, _), (done, end) in offsets.items():
            lag[topic] = lag.get(topic, 0) + max(0, end - done)
        if not any(lag.values()):
            zero_in_a_row += 1
            if zero_in_a_row >= settle:
                return {}
        else:
            zero_in_a_row = 0
            for stall in watch.observe(offsets, time.monotonic()):
                if echo:
                    echo(describe_stall(*stall))
            if echo and time.monotonic() - last_print > 5:
                echo("waiting: " + ", ".join(f"{t}={n}" for t, n in sorted(lag.items()) if n))
                last_print = time.monotonic()
        time.sleep(1.0)
    return {t: n for t, n in lag.items() if n}
