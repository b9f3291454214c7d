"""Event-time watermarks across a stage's input partitions (pure).

A watermark is a claim "every event at or before this time has been seen", as far as an input can tell. Each
stage forwards its inputs' progress in a small header (`sp-wm`, below) on the messages it sends downstream:

- ingest, per `mentions.raw` partition: the latest event time (`created_at`) it has processed there;
- detect, per `mentions.by_customer` partition: the minimum over the `mentions.raw` partitions it heard from;
- the spike stage, per `mentions.negative_by_brand` partition: the minimum over the detect partitions.

The minimum is taken over every input partition (a stage has `settings.partitions` of them), so the slowest
partition holds the watermark back: a replay whose partitions are a day apart in event time evaluates an hour only
once the last partition has passed it. An input that sent nothing for `idle_timeout` seconds of wall-clock time —
or that never reported since the tracker started — stops holding it back (a silent partition must not stop every
spike alert); if every input is idle the watermark is the latest any input reported. The watermark never goes
back. Along one path (raw partition → detect partition → negatives partition) Kafka keeps order, which is what
makes the minimum a safe claim."""
from __future__ import annotations

import math
from typing import Mapping, Optional

import msgspec

WM_HEADER = "sp-wm"
_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(dict[int, float])


def encode_marks(marks: Mapping[int, float]) -> bytes:
    """The `sp-wm` header value: msgpack map input partition → event time (epoch seconds)."""
    return _enc.encode(dict(marks))


def decode_marks(raw: Optional[bytes]) -> dict[int, float]:
    """The map of an `sp-wm` header; empty for a missing or unreadable header (a foreign or older producer)."""
    if not raw:
        return {}
    try:
        marks = _dec.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return {}
    return {p: t for p, t in marks.items() if math.isfinite(t)}


def header_marks(headers) -> dict[int, float]:
    """The `sp-wm` map of a message's headers (a list of (key, value) pairs or a dict), empty if absent."""
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key == WM_HEADER:
            return decode_marks(value)
    return {}


class WatermarkTracker:
    """The watermark of one partition of a stage: min over its `sources` input partitions (see module doc)."""

    __slots__ = ("sources", "idle_timeout", "started", "marks", "advanced", "emitted")

    def __init__(self, sources: int, idle_timeout: float, now: float) -> None:
        self.sources, self.idle_timeout, self.started = sources, idle_timeout, now
        self.marks: dict[int, float] = {}     # input partition → latest event time it reported
        self.advanced: dict[int, float] = {}  # input partition → wall-clock time its mark last moved forward
        self.emitted: Optional[float] = None

    def update(self, source: int, mark: float, now: float) -> None:
        """An input reported `mark` (kept if it moves that input forward)."""
        if mark > self.marks.get(source, -math.inf):
            self.marks[source] = mark
            self.advanced[source] = now

    def update_all(self, marks: Mapping[int, float], now: float) -> None:
        for source, mark in marks.items():
            self.update(source, mark, now)

    def current(self, now: float) -> Optional[float]:
        """The watermark (None while nothing holds a claim yet); never lower than a value returned before."""
        if not self.marks:
            return self.emitted
        fresh = now - self.idle_timeout
        pending = [self.marks[p] for p, at in self.advanced.items() if at >= fresh]
        waiting = self.started >= fresh and len(self.marks) < self.sources  # silent inputs still in their grace
        if waiting:
            value = None  # a partition that has not reported may still bring older events
        elif pending:
            value = min(pending)
        else:
            value = max(self.marks.values())  # every input idle: nothing is in flight
        if value is not None and (self.emitted is None or value > self.emitted):
            self.emitted = value
        return self.emitted


class MarkForwarder:
    """Which downstream partitions to tell about the inputs' progress after a batch: every partition that gets
    records carries the marks in its header; a partition that gets none this batch is sent a record-less message
    with the header only when the marks changed since it last heard them (so a quiet stream sends nothing)."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.told: dict[int, dict[int, float]] = {}

    def header(self, target: int, marks: Mapping[int, float]) -> list[tuple[str, bytes]]:
        """The headers for a message with records to `target` (records the marks as told)."""
        self.told[target] = dict(marks)
        return [(WM_HEADER, encode_marks(marks))]

    def silent(self, used: set[int], marks: Mapping[int, float]) -> list[int]:
        """Partitions without records this batch that have not heard `marks` yet."""
        if not marks:
            return []
        return [t for t in range(self.partitions) if t not in used and self.told.get(t) != marks]
