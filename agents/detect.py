"""Stage 2 (on `mentions.by_customer`): dedupe, per-customer complaint history, alert rules; emits
`mentions.enriched` and `alerts.complaints`.

Batched (see `pipeline.runtime.outbox`): a batch updates the in-memory table at once; its changelog (one record per key and
batch, to the event's own partition) is sent only after the broker acknowledged the batch's outputs, and its events
are acked only after the changelog was acknowledged too. The changelog therefore never gets ahead of what was
emitted, and no offset is committed before both are durable. A crash anywhere in between redelivers the batch; the
history's seen-ids make that a re-emit without a re-alert."""
from __future__ import annotations

import time
from typing import Any, Optional

from pipeline import metrics
from pipeline.codec import decoder, encode
from pipeline.contract import topics
from pipeline.contract.records import EnrichedMention
from pipeline.domain.escalation import CustomerHistory, is_duplicate, merge_histories, observe
from pipeline.domain.mention import dead_letter, parse_timestamp
from pipeline.domain.spikes import SpikeState, advance, count_negative, evaluate, spike_alert, top_mention
from pipeline.runtime import faust_compat
from pipeline.runtime.app import Pipeline, escalation_config, now_iso, spike_config
from pipeline.runtime.outbox import Outbox, completed_batches, send_packed
from pipeline.runtime.packing import KIND_HEADER, LINK, LINKS, MERGE, PACKED, Packer, partition_for, unpack
from pipeline.runtime.table_batch import TableBatch
from pipeline.runtime.watermarks import MarkForwarder, WatermarkTracker, header_marks


def register(p: Pipeline) -> None:
    s = p.settings
    cfg, scfg = escalation_config(s), spike_config(s)
    faust_compat.require_memory_store(p.app)  # TableBatch writes the in-memory store directly
    history = p.app.Table("customer_history", partitions=s.partitions, key_type=bytes, value_type=bytes)
    spikes = p.app.Table("brand_spikes", partitions=s.partitions, key_type=bytes, value_type=bytes)
    p.tables.update(customer_history=history, brand_spikes=spikes)
    dec_mention, dec_history, dec_spike = decoder(EnrichedMention), decoder(CustomerHistory), decoder(SpikeState)
    ok = metrics.STAGE_MESSAGES.labels("detect", "ok")
    dup = metrics.STAGE_MESSAGES.labels("detect", "duplicate")
    spike_counted = {o: metrics.STAGE_MESSAGES.labels("spikes", o) for o in ("counted", "duplicate", "late")}
    # Watermarks (pipeline.runtime.watermarks): per input partition of each stage, over that partition's own inputs.
    detect_marks: dict[int, WatermarkTracker] = {}  # by_customer partition → over mentions.raw partitions
    spike_marks: dict[int, WatermarkTracker] = {}   # negative_by_brand partition → over by_customer partitions
    detect_out: dict[int, float] = {}               # by_customer partition → its watermark, told to the spike stage
    forwarder = MarkForwarder(s.partitions)
    brand_partition: dict[bytes, int] = {}

    def tracker(trackers: dict[int, WatermarkTracker], partition: int) -> WatermarkTracker:
        t = trackers.get(partition)
        if t is None:
            t = trackers[partition] = WatermarkTracker(s.partitions, s.spike_idle_timeout, time.monotonic())
        return t

    async def raise_alert(out: Outbox, key: bytes, alert) -> None:
        metrics.ALERTS.labels(alert.type, alert.severity).inc()
        await out.send(topics.ALERTS, key, encode(alert))

    async def reject(out: Outbox, event, stage: str, exc: Exception, key: Optional[bytes] = None,
                     value: Optional[bytes] = None) -> None:
        """A record this stage cannot handle (a bug or a foreign producer): dead-letter it, keep going. A record of a
        packed message is dead-lettered with its own key and value (and the packed message's offset)."""
        msg = event.message
        metrics.DEADLETTERS.labels(stage).inc()
        letter = dead_letter(f"{type(exc).__name__}: {exc}", stage, msg.topic, msg.partition, msg.offset,
                             msg.key if key is None else key, msg.value if value is None else value, now_iso())
        await out.send(topics.DEADLETTER, msg.key if key is None else key, encode(letter))

    async def run_batches(stream, stage: str, table: Any, dec_state: Any, handle_one, trackers, after_batch) -> None:
        """Batches of events (packed or single records) → `handle_one(out, state, key, value, partition, now,
        negatives)` per record, watermark headers → `trackers`; then `after_batch(out, state, partitions, now,
        negatives)`; table changes follow the batch (module docstring)."""
        out, changelog = Outbox(p.app), table.changelog_topic.get_topic_name()
        log_out = Outbox(p.app)  # used by the completer's task only
        negatives = Packer(s.partitions)
        async for events, completer in completed_batches(stream, s.process_batch_size, p.health.reporter(stage)):
            state = TableBatch(table, dec_state)
            now = now_iso()
            mono = time.monotonic()
            partitions: set[int] = set()
            for event in events:
                partition = event.message.partition
                partitions.add(partition)
                try:
                    marks = header_marks(event.headers)
                    if marks:
                        tracker(trackers, partition).update_all(marks, mono)
                    kind = dict(event.headers or {}).get(KIND_HEADER)
                    if kind == LINKS:
                        for key, value in unpack(event.value):
                            await handle_link(out, state, key, value, partition)
                    elif kind == PACKED:
                        for key, value in unpack(event.value):
                            try:
                                await handle_one(out, state, key, value, partition, now, negatives)
                            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the partition
                                await reject(out, event, stage, exc, key, value)
                    else:
                        await handle_event(out, state, event, now, handle_one, negatives)
                except Exception as exc:  # noqa: BLE001 - one bad record must not stop the partition
                    await reject(out, event, stage, exc)
            await after_batch(out, state, partitions, now, negatives)
            records = state.apply()

            async def send_changelog(records=records) -> list[Any]:
                for key, value, partition in records:
                    await log_out.send(changelog, key, value, partition=partition)
                return log_out.take()

            await completer.submit(events, out.take(), send_changelog)

    async def after_detect(out: Outbox, state: TableBatch, partitions: set[int], now: str, negatives: Packer) -> None:
        """The batch's negatives, packed per brand partition, with this stage's watermarks in their header."""
        mono = time.monotonic()
        for partition in partitions:
            mark = tracker(detect_marks, partition).current(mono)
            if mark is not None:
                detect_out[partition] = mark
        await send_packed(out, topics.NEGATIVES, negatives, forwarder, detect_out)

    @p.app.agent(p.topic(topics.BY_CUSTOMER), name="detect")
    async def detect(stream):
        await run_batches(stream, "detect", history, dec_history, handle_mention, detect_marks, after_detect)

    async def handle_event(out: Outbox, state: TableBatch, event, now: str, handle_one, negatives: Packer) -> None:
        """A single (unpacked) record: a link/merge of the identities stage, or a mention from an older worker."""
        key: bytes = event.key
        partition = event.message.partition
        kind = dict(event.headers or {}).get(KIND_HEADER)
        if kind == LINK:
            await handle_link(out, state, key, event.value, partition)
            return
        if kind == MERGE:
            current = state.get(key)
            other = dec_history.decode(event.value)
            state.set(key, other if current is None else merge_histories(current, other), partition)
            return
        await handle_one(out, state, key, event.value, partition, now, negatives)

    async def handle_link(out: Outbox, state: TableBatch, prospect: bytes, customer_id: bytes, partition: int) -> None:
        """A prospect's handle joined a customer: move its history to the customer (not lost)."""
        old = state.get(prospect)
        if old is not None:
            state.set(prospect, None, partition)
            await out.send(topics.BY_CUSTOMER, customer_id, encode(old), headers=[(KIND_HEADER, MERGE)])

    async def handle_mention(out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int, now: str,
                             negatives: Packer) -> None:
        m = dec_mention.decode(value)
        h = state.get(key) or CustomerHistory()
        if is_duplicate(h, m.mention_id):
            # Re-emit the row (the sink is idempotent) in case the first emit was lost in a crash; never
            # re-alert: the history already counts this mention.
            dup.inc()
            await out.send(topics.ENRICHED, key, value)
            return
        h, alert = observe(h, m, parse_timestamp(m.created_at).timestamp(), now, cfg)
        ok.inc()
        await out.send(topics.ENRICHED, key, value)
        if alert is not None:
            await raise_alert(out, key, alert)
        state.set(key, h, partition)
        if m.brand and m.sentiment.label == "negative":
            negatives.add(m.brand.encode(), value)

    @p.app.agent(p.topic(topics.NEGATIVES), name="spikes")
    async def spike_detector(stream):
        await run_batches(stream, "spikes", spikes, dec_spike, handle_negative, spike_marks, after_spikes)

    async def handle_negative(out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int, now: str,
                              negatives: Packer) -> None:
        m = dec_mention.decode(value)
        current = state.get(key) or SpikeState()
        outcome = count_negative(current, parse_timestamp(m.created_at).timestamp(),
                                 top_mention(m.mention_id, m.text, m.channel, m.customer_id, m.sentiment), scfg)
        spike_counted[outcome].inc()
        if outcome == "counted":
            state.set(key, current, partition)

    def partition_of(key: bytes) -> int:
        q = brand_partition.get(key)
        if q is None:
            q = brand_partition[key] = partition_for(key, s.partitions)
        return q

    async def after_spikes(out: Outbox, state: TableBatch, partitions: set[int], now: str, negatives: Packer) -> None:
        """Apply each partition's watermark to its brands and raise the spikes that became certain."""
        mono = time.monotonic()
        marks = {q: tracker(spike_marks, q).current(mono) for q in partitions}
        for key in set(spikes.data.keys()) | set(state.values):
            q = partition_of(key)
            current = state.get(key) if q in marks else None
            if current is None:
                continue
            before = (current.watermark, len(current.alerted))
            advance(current, marks[q])
            found = evaluate(current, key.decode(), scfg)
            if (current.watermark, len(current.alerted)) != before or found:
                state.set(key, current, q)
            for spike in found:
                await raise_alert(out, key, spike_alert(spike, now, scfg, cfg.window_days))
