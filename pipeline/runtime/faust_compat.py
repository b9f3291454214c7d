"""Every faust-streaming / aiokafka internal socialpulse touches, in one place, checked against the pinned versions.

1. **Delivery gate** (docs/guarantees.md, "Offsets"). faust resumes a rebalanced consumer's stream partitions
   *before* it seeks them to their committed offsets, and its offset bookkeeping books whatever it fetched in that
   window as read: a record fetched before the seek but handed over after it opens a "gap" that marks records done
   that no stream ever processed (skipped commits), and a head offset that never gets acked freezes a partition's
   commits for good (stranded commits). faust also commits past an in-flight head record (faust-streaming #606).
   `SafeConsumer` closes both:
   - no record of a stream partition reaches a stream until that partition was sought to its committed offset in
     the current assignment; records fetched earlier (or delivered after a later rebalance/seek) are dropped and
     fetched again, never acked; a partition without a committed offset is sought back to the first record dropped;
   - a gap is booked only for offsets the broker skipped *after* the seek (compaction, control records);
   - a commit never passes the lowest unacknowledged offset: it moves only over a run of acked offsets that starts
     exactly at the committed offset; acks from an earlier assignment are ignored (the record is redelivered).
   The bookkeeping is `DeliveryGate` / `next_commit` (plain, unit-tested); `SafeConsumer` wires it into faust.
2. **Delivery without four tasks per record.** faust's fetch loop ran `wait_first(on_message(msg),
   suspend_flow.wait())` per record (four futures and an `asyncio.wait`) only to be able to abandon a delivery that
   blocks when a rebalance starts. `SafeConsumer` runs `on_message` eagerly and races it against `suspend_flow` only
   when it really blocks; an abandoned delivery drops the partition until it is sought again.
3. **Fetch wait.** faust hard-codes aiokafka's `fetch_max_wait_ms=1500`; one consumer fetches every topic of a
   worker, so each internal hop could sit out a long fetch. `short_fetch_wait` caps it.
4. Small reads used elsewhere: `stream_queue` (a stream's inbound queue), `committed_offset` (what faust last
   committed for a partition), `wait_on_metadata` (aiokafka's producer metadata wait).

`check_versions()` fails loudly when the installed versions differ from the ones this module was written against:
re-verify every item above (tests/unit/test_faust_compat.py, the fault tests) before changing `PINNED`."""
from __future__ import annotations

import asyncio
import logging
from importlib import metadata
from typing import Any, Coroutine, Iterable, Mapping, Optional

from pipeline.runtime.delivery import DELIVER, DROP, DUPLICATE, DeliveryGate, next_commit  # noqa: F401

log = logging.getLogger(__name__)

PINNED = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0", "mode-streaming": "0.7.1"}


class CompatError(RuntimeError):
    """The installed faust-streaming/aiokafka/mode differ from the versions this module was verified against."""


def installed_versions() -> dict[str, str]:
    out = {}
    for name in PINNED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def check_versions() -> None:
    """Raise CompatError unless every pinned package is installed at its pinned version."""
    have = installed_versions()
    wrong = {k: v for k, v in have.items() if v != PINNED[k]}
    if wrong:
        detail = ", ".join(f"{k} {v} (pinned {PINNED[k]})" for k, v in sorted(wrong.items()))
        raise CompatError(f"socialpulse reaches into faust/aiokafka internals verified only for the pinned versions: "
                          f"{detail}. Install the versions in pyproject.toml (make setup), or re-verify "
                          f"pipeline/runtime/faust_compat.py and update PINNED.")


# --- 1. the delivery gate: bookkeeping in pipeline.runtime.delivery, wired into faust below -------------------


# --- 2. eager delivery -------------------------------------------------------------------------------------------
async def finish(coro: Coroutine[Any, Any, Any], awaiting: Any) -> Any:
    """Run a coroutine that was started by hand and is suspended on `awaiting` (what its first `send` yielded)
    to its end, as an asyncio Task would: wait for the future, resume it; deliver a cancellation into it."""
    while True:
        try:
            if awaiting is None:
                await asyncio.sleep(0)  # a bare yield
            else:
                awaiting._asyncio_future_blocking = False
                await asyncio.wait([awaiting])  # done, without consuming its result: the coroutine reads it
        except BaseException as exc:  # noqa: BLE001 - cancellation is delivered into the coroutine
            try:
                awaiting = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            awaiting = coro.send(None)
        except StopIteration as stop:
            return stop.value


EAGER_DELIVERY = True  # measured: pipeline 2,146 → 3,940 mentions/s (docs/benchmarks.md)

# --- faust wiring ------------------------------------------------------------------------------------------------
def _safe_consumer_class() -> type:
    from faust.transport.consumer import CONSUMER_FETCHING
    from faust.transport.drivers.aiokafka import Consumer

    class SafeConsumer(Consumer):  # type: ignore[misc, valid-type]
        """faust's aiokafka consumer with the delivery gate and the strict commit rule (module docstring)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.gate = DeliveryGate()

        def _stream_tps(self, tps: Iterable[Any]) -> list[Any]:
            return [tp for tp in tps if not self._is_changelog_tp(tp)]

        async def on_partitions_revoked(self, revoked: set) -> None:
            self.gate.unsought(self._stream_tps(revoked))
            await super().on_partitions_revoked(revoked)

        async def on_partitions_assigned(self, assigned: set, generation_id: int = 0) -> None:
            tps = self._stream_tps(assigned)
            self.gate.unsought(tps)
            for tp in tps:  # acks and gaps of an earlier assignment say nothing about this one
                self._acked.pop(tp, None)
                self._acked_index.pop(tp, None)
                self._gap.pop(tp, None)
                self._committed_offset.pop(tp, None)
            await super().on_partitions_assigned(assigned, generation_id)

        async def perform_seek(self) -> None:
            committed = await self.seek_to_committed()
            for tp, offset in committed.items():
                tp = self._new_topicpartition(tp.topic, tp.partition)
                self._read_offset[tp] = offset if offset is not None and offset >= 0 else None
                if offset:
                    self._committed_offset[tp] = offset
                if not self._is_changelog_tp(tp):
                    self.gate.request_seek(tp, offset)

        async def _apply_seeks(self) -> None:
            """Between two fetches (nothing consumes records meanwhile): seek every partition faust sought again, to
            where nothing dropped is left behind, and open it for delivery."""
            from aiokafka.errors import IllegalStateError

            applied = self.gate.apply_seeks()
            for tp, target in applied:
                if target is not None:
                    try:
                        await self._seek(tp, target)
                    except IllegalStateError:
                        # Revoked in the consumer thread meanwhile (its revoke callback reaches this loop later):
                        # closed again until its next assignment and seek.
                        self.gate.unsought([tp])
            if applied:
                log.info("delivery gate: %d partitions sought (%s); %d records fetched before their seek dropped "
                         "so far", len(applied), ", ".join(f"{tp.topic}[{tp.partition}]@{t}" for tp, t in applied),
                         self.gate.dropped)

        def ack(self, message: Any) -> bool:
            if message.generation_id is not None and message.generation_id != self.app.consumer_generation_id:
                # From an earlier assignment: its partition was sought again since, the record is redelivered.
                message.acked = True
                self._unacked_messages.discard(message)
                return False
            return super().ack(message)

        def _new_offset(self, tp: Any) -> Optional[int]:
            acked = self._acked[tp]
            if not acked:
                return None
            floor = self._committed_offset[tp]
            if floor is None:
                floor = self.gate.floor(tp)
            tree = self._gap[tp]
            gaps = [(iv.begin, iv.end - 1) for iv in tree] if tree else []
            offset, consumed = next_commit(acked, gaps, floor)
            self._acked_index[tp].difference_update(consumed)
            if offset is not None and tree:
                tree.chop(0, offset)
            return offset

        async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
            floor = self._committed_offset[tp]
            if floor is not None:
                offset_from = max(offset_from, floor)
            if offset_from <= offset_to:
                tree = self._gap[tp]
                tree.addi(offset_from, offset_to + 1)
                tree.merge_overlaps()

        eager = EAGER_DELIVERY  # False: faust's own per-record wait_first

        async def _deliver(self, callback: Any, message: Any) -> bool:
            """Hand `message` to the streams; False when a rebalance (suspend_flow) abandoned the delivery."""
            coro = callback(message)
            if not self.eager:
                waited = await self.wait_first(coro, self.suspend_flow.wait())
                return any(w is coro for w in waited.done)
            try:
                awaiting = coro.send(None)
            except StopIteration:  # finished without blocking: the usual case
                return True
            delivery = finish(coro, awaiting)
            waited = await self.wait_first(delivery, self.suspend_flow.wait())
            return any(w is delivery for w in waited.done)

        async def _fetch(self) -> list[tuple[Any, Any, Optional[int]]]:
            """One fetch, as faust's `getmany` does it, with each stream record tagged with its partition's epoch."""
            records, active = await self._wait_next_records(1.0)
            if not self.flow_active:  # stopped during the fetch: back to the committed offsets, as faust does
                try:
                    await self.perform_seek()
                except Exception as exc:  # noqa: BLE001 - as faust: the rebalance that stopped it seeks again
                    log.warning("seek while flow not active failed: %r", exc)
                return []
            if not records or self.should_stop:
                return []
            out: list[tuple[Any, Any, Optional[int]]] = []
            epochs: dict[Any, Optional[int]] = {}
            buffered = self._buffered_partitions
            to_message = self._to_message
            for tp, record in self.scheduler.iterate(records):
                if active is not None and tp not in active and tp not in buffered:
                    continue
                if tp not in epochs:
                    epochs[tp] = -1 if self._is_changelog_tp(tp) else self.gate.batch_epoch(tp)
                    self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                out.append((tp, to_message(tp, record), epochs[tp]))
            return out

        async def _heal_unsought(self) -> None:
            """A stream partition left unsought outside a rebalance (an abandoned delivery) is sought again."""
            if self.app.rebalancing or not self.flow_active:
                return
            assignment = self._stream_tps(self.assignment())
            if any(not (st := self.gate.state(tp)).sought and not st.pending for tp in assignment):
                try:
                    await self.perform_seek()
                except Exception as exc:  # noqa: BLE001 - a rebalance started meanwhile: its own seek follows
                    log.info("re-seek of unsought partitions deferred: %r", exc)

        async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - exercised on real brokers
            callback = self.callback
            consumer_should_stop = self._stopped.is_set
            fetcher_should_stop = fetcher._stopped.is_set
            read_offset = self._read_offset
            gate = self.gate
            acks_enabled_for = self.app.topics.acks_enabled_for
            commit_every = self._commit_every
            set_flag, unset_flag = self.diag.set_flag, self.diag.unset_flag
            since_yield = 0
            try:
                while not (consumer_should_stop() or fetcher_should_stop()):
                    set_flag(CONSUMER_FETCHING)
                    await self._heal_unsought()
                    await self._apply_seeks()
                    batch = await self._fetch()
                    await asyncio.sleep(0)
                    for i, (tp, message, epoch) in enumerate(batch):
                        if self.should_stop or not self.flow_active:
                            for tp2, m2, e2 in batch[i:]:
                                if e2 != -1:
                                    gate.drop(tp2, m2.offset)
                            break
                        since_yield += 1
                        if since_yield > 100:
                            await asyncio.sleep(0)
                            since_yield = 0
                        offset = message.offset
                        if epoch == -1:  # changelog: faust's own rule
                            r_offset = read_offset[tp]
                            if r_offset is not None and offset < r_offset:
                                continue
                        else:
                            verdict, gap = gate.accept(tp, offset, epoch)
                            if verdict != DELIVER:
                                continue
                            if gap is not None and acks_enabled_for(message.topic):
                                await self._add_gap(tp, gap[0], gap[1])
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        if not await self._deliver(callback, message):
                            log.info("delivery of %s[%d]@%d abandoned (rebalance)", tp.topic, tp.partition, offset)
                            if epoch != -1:
                                gate.drop(tp, offset)
                                gate.unsought([tp])
                            continue
                        read_offset[tp] = offset
                    unset_flag(CONSUMER_FETCHING)
            except self.consumer_stopped_errors:
                if self.transport.app.should_stop:
                    self.log.info("Broker stopped consumer, shutting down...")
                    return
                raise
            except asyncio.CancelledError:
                if self.transport.app.should_stop:
                    self.log.info("Consumer shutting down for user cancel.")
                    return
                raise
            except Exception as exc:
                self.log.exception("Drain messages raised: %r", exc)
                raise
            finally:
                unset_flag(CONSUMER_FETCHING)

    return SafeConsumer


_SAFE: Optional[type] = None


def safe_consumer_class() -> type:
    global _SAFE
    if _SAFE is None:
        _SAFE = _safe_consumer_class()
    return _SAFE


def install(app: Any, consumer_class: Optional[type] = None) -> None:
    """Give `app` the safe consumer (before the app starts): a transport whose Consumer is `SafeConsumer`."""
    from faust.transport.drivers.aiokafka import Transport

    class SafeTransport(Transport):  # type: ignore[misc, valid-type]
        Consumer = consumer_class or safe_consumer_class()

    app.transport = SafeTransport(app.conf.broker_consumer, app)


# --- 3. fetch wait -----------------------------------------------------------------------------------------------
def short_fetch_wait(max_wait_ms: int) -> None:
    """Cap faust's consumer `fetch_max_wait_ms` (faust offers no setting for it)."""
    import aiokafka
    from faust.transport.drivers import aiokafka as driver

    if getattr(driver.aiokafka, "_socialpulse_patched", False):
        return
    original = aiokafka.AIOKafkaConsumer

    class AIOKafkaConsumer(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("fetch_max_wait_ms", 0) > max_wait_ms:
                kwargs["fetch_max_wait_ms"] = max_wait_ms
            super().__init__(*args, **kwargs)

    driver.aiokafka = type(aiokafka)("aiokafka_for_faust")
    driver.aiokafka.__dict__.update(aiokafka.__dict__, AIOKafkaConsumer=AIOKafkaConsumer, _socialpulse_patched=True)


# --- 4. small reads ----------------------------------------------------------------------------------------------
def stream_queue(stream: Any) -> Any:
    """The asyncio queue a faust stream reads its events from."""
    return stream.channel.queue


async def wait_on_metadata(consumer: Any, topic: str) -> set[int]:
    """The partitions of `topic`, waiting for aiokafka's metadata (a freshly started consumer has none yet)."""
    return await consumer._client._wait_on_metadata(topic) or set()


def committed_offsets(app: Any) -> Mapping[Any, Optional[int]]:
    """What faust last committed (or sought to) per partition of this worker."""
    return app.consumer._committed_offset


def require_memory_store(app: Any) -> None:
    """The detect and spike stages write their tables' stores directly (`pipeline.runtime.table_batch`), which is
    right only for faust's in-memory store, the one faust's changelog recovery fills: refuse anything else."""
    store = str(app.conf.store)
    if not store.startswith("memory:"):
        raise CompatError(f"the worker's tables need faust's in-memory store (store='memory://'), not {store!r}: "
                          "pipeline/runtime/table_batch.py writes the store directly")


def only_own_views(app: Any) -> None:
    """Drop faust's built-in web views (the settings turn most off, but its production index at "/" has no
    switch), so the worker's web server serves the pages the app registers and nothing else."""
    manager = getattr(app.web, "blueprints", None)
    enabled = getattr(manager, "_enabled", None)
    if not isinstance(enabled, list) or getattr(manager, "applied", True):
        raise CompatError("faust's web blueprint manager changed or was applied already: check "
                           "pipeline/runtime/faust_compat.only_own_views against the installed faust")
    enabled[:] = [(prefix, bp) for prefix, bp in enabled
                  if not (isinstance(bp, str) and bp.startswith("faust.web.apps."))]
