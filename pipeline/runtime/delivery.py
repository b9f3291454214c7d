"""The delivery gate's bookkeeping (pure): which fetched records may reach a stream, and how far a partition's
commit may move. `pipeline.runtime.faust_compat.SafeConsumer` wires it into faust's consumer; why it exists is in
that module's docstring and docs/guarantees.md ("Offsets")."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Hashable, Iterable, Optional

DELIVER, DROP, DUPLICATE = "deliver", "drop", "duplicate"


@dataclass
class PartitionState:
    epoch: int = 0                      # bumped at every revoke, assign and seek of the partition
    sought: bool = False                # sought to its committed offset in the current assignment
    next: Optional[int] = None          # next offset expected from the fetcher (None: the first one fetched)
    floor: Optional[int] = None         # lowest offset not known done (the committed offset, or the first fetched)
    dropped_from: Optional[int] = None  # lowest offset dropped since the last seek (to seek back to)
    pending: bool = False               # a seek was requested, to be applied between two fetches
    committed: Optional[int] = None     # the committed offset of the requested seek


class DeliveryGate:
    """Per-partition delivery rules, independent of faust: which fetched records may reach a stream, which offsets
    are legitimately skipped (a gap), and where a commit may start.

    Life of a partition: `unsought` (assigned or revoked) → records fetched now are dropped → `sought(committed)` →
    `batch_epoch` at fetch time, `accept(offset, epoch)` at delivery time."""

    def __init__(self) -> None:
        self.parts: dict[Hashable, PartitionState] = {}
        self.dropped = 0  # records dropped (fetched before their partition's seek), for metrics and tests

    def state(self, tp: Hashable) -> PartitionState:
        st = self.parts.get(tp)
        if st is None:
            st = self.parts[tp] = PartitionState()
        return st

    def unsought(self, tps: Iterable[Hashable]) -> None:
        """The partitions were revoked, (re)assigned or a delivery was abandoned: nothing reaches a stream until the
        next `sought`."""
        for tp in tps:
            st = self.state(tp)
            st.epoch += 1
            st.sought, st.pending, st.next, st.floor = False, False, None, None

    def request_seek(self, tp: Hashable, committed: Optional[int]) -> None:
        """faust sought the partition to `committed` (None: no committed offset). Records may still have been
        fetched after that seek and dropped here; the seek is therefore applied again by `apply_seeks`, between two
        fetches, where nothing can consume records behind its back."""
        st = self.state(tp)
        st.epoch += 1
        st.sought, st.next, st.floor = False, None, None
        st.pending, st.committed = True, committed

    def apply_seeks(self) -> list[tuple[Hashable, Optional[int]]]:
        """Mark every partition with a requested seek as sought; return (partition, offset to seek it to now, or
        None when its position is untouched: no committed offset and nothing dropped)."""
        out = []
        for tp, st in self.parts.items():
            if st.pending:
                out.append((tp, self.sought(tp, st.committed)))
        return out

    def sought(self, tp: Hashable, committed: Optional[int]) -> Optional[int]:
        """Mark the partition sought (call it right before seeking it, with no fetch in between). Returns the offset
        to seek it to — `committed`, else the first record dropped since the last seek — or None (no committed
        offset and nothing dropped: the consumer's position is untouched)."""
        st = self.state(tp)
        if committed:
            target: Optional[int] = committed
        elif st.dropped_from is not None:
            target = 0 if committed == 0 else st.dropped_from
        else:
            target = committed
        st.epoch += 1
        st.sought, st.pending, st.dropped_from = True, False, None
        st.next = st.floor = target
        return target

    def batch_epoch(self, tp: Hashable) -> Optional[int]:
        """The epoch to tag a just-fetched batch of `tp` with, or None when its records must be dropped."""
        st = self.state(tp)
        return st.epoch if st.sought else None

    def drop(self, tp: Hashable, offset: int) -> None:
        st = self.state(tp)
        self.dropped += 1
        if st.dropped_from is None or offset < st.dropped_from:
            st.dropped_from = offset

    def accept(self, tp: Hashable, offset: int, epoch: Optional[int]) -> tuple[str, Optional[tuple[int, int]]]:
        """Verdict for a fetched record at delivery time: (DELIVER, gap or None) / (DROP, None) / (DUPLICATE, None).
        A gap (first, last) is a range of offsets the broker skipped after the seek (nothing to process there)."""
        st = self.parts.get(tp)
        if st is None or epoch is None or not st.sought or st.epoch != epoch:
            self.drop(tp, offset)
            return DROP, None
        nxt = st.next
        if nxt is None:
            st.next = offset + 1
            if st.floor is None:
                st.floor = offset
            return DELIVER, None
        if offset < nxt:
            return DUPLICATE, None
        st.next = offset + 1
        return DELIVER, ((nxt, offset - 1) if offset > nxt else None)

    def floor(self, tp: Hashable) -> Optional[int]:
        st = self.parts.get(tp)
        return None if st is None else st.floor


def next_commit(acked: list[int], gaps: list[tuple[int, int]], floor: Optional[int]) -> tuple[Optional[int], list[int]]:
    """Where a partition's commit may move to: (offset to commit or None, the acked offsets it consumed).

    `acked` are acknowledged offsets (any order), `gaps` inclusive ranges known to hold nothing to process, `floor`
    the committed offset (the next record to process; None: unknown, then the lowest acked). The commit moves only
    over a run of consecutive done offsets starting exactly at `floor` — never past an unacknowledged record.
    `acked` is left sorted, without the consumed offsets and without offsets below `floor`."""
    done = sorted(set(acked))
    if floor is not None:
        cut = bisect.bisect_left(done, floor)
        consumed = done[:cut]
        done = done[cut:]
    else:
        consumed = []
    cover = sorted(gaps)
    start = floor if floor is not None else (done[0] if done else None)
    if start is None:
        acked[:] = done
        return None, consumed
    pos, i = start, 0
    n = len(done)
    gi = 0
    while True:
        while i < n and done[i] < pos:
            i += 1
        if i < n and done[i] == pos:
            consumed.append(pos)
            pos += 1
            i += 1
            continue
        while gi < len(cover) and cover[gi][1] < pos:
            gi += 1
        if gi < len(cover) and cover[gi][0] <= pos:
            pos = cover[gi][1] + 1
            continue
        break
    acked[:] = done[i:]
    if pos == start:
        return None, consumed
    return pos, consumed
