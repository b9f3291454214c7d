"""The batch loop of the table-backed stages (detect, spikes), shared by `agents.detect` and `agents.spikes`.

Batched (see `pipeline.runtime.outbox`): a batch updates the in-memory table at once; its changelog (one record per
key and batch, to the event's own partition) is sent only after the broker acknowledged the batch's outputs, and its
events are acked only after the changelog was acknowledged too. The changelog therefore never gets ahead of what was
emitted, and no offset is committed before both are durable. A crash anywhere in between redelivers the batch; the
stages' seen-ids make that a re-emit without a re-alert."""
from __future__ import annotations

import time
from typing import Any, Optional

from pipeline import metrics
from pipeline.codec import decoder, encode
from pipeline.contract import topics
from pipeline.contract.records import EnrichedMention
from pipeline.domain.mention import dead_letter
from pipeline.domain.spikes import Source
from pipeline.runtime import faust_compat
from pipeline.runtime.app import Health, Pipeline, now_iso
from pipeline.runtime.outbox import Outbox, completed_batches
from pipeline.runtime.packing import KIND_HEADER, LINKS, PACKED, SOURCED, Packer, split_source, unpack
from pipeline.runtime.table_batch import TableBatch
from pipeline.runtime.watermarks import WM_HEADER, WatermarkTracker, decode_marks
from pipeline.settings import Settings


#: Both stages' records are enriched mentions.
DEC_MENTION = decoder(EnrichedMention)


async def raise_alert(out: Outbox, key: bytes, alert: Any) -> None:
    metrics.ALERTS.labels(alert.type, alert.severity).inc()
    await out.send(topics.ALERTS, key, encode(alert))


async def reject(out: Outbox, event: Any, stage: str, exc: Exception, key: Optional[bytes] = None,
                 value: Optional[bytes] = None) -> None:
    """A record a stage cannot handle (a bug or a foreign producer): dead-letter it, keep going. A record of a
    packed message is dead-lettered with its own key and value (and the packed message's offset)."""
    msg = event.message
    metrics.DEADLETTERS.labels(stage).inc()
    letter = dead_letter(f"{type(exc).__name__}: {exc}", stage, msg.topic, msg.partition, msg.offset,
                         msg.key if key is None else key, msg.value if value is None else value, now_iso())
    await out.send(topics.DEADLETTER, msg.key if key is None else key, encode(letter))


class TableStage:
    """A stage over one faust table. Subclasses say what one record does (`handle`), what a record-level message
    of another kind does (`handle_single`, `handle_link`) and what follows a batch (`after_batch`)."""

    name = "stage"
    state_type: type = object  # the table's values

    def __init__(self, settings: Settings, table: Any, health: Optional[Health] = None) -> None:
        self.s, self.table, self.dec_state = settings, table, decoder(self.state_type)
        self.health = health or Health()
        self.trackers: dict[int, WatermarkTracker] = {}  # input partition → watermark over its own inputs

    def tracker(self, partition: int) -> WatermarkTracker:
        t = self.trackers.get(partition)
        if t is None:
            t = self.trackers[partition] = WatermarkTracker(self.s.partitions, self.s.spike_idle_timeout,
                                                            time.monotonic())
        return t

    async def handle(self, out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int, now: str,
                     negatives: Packer, source: Optional[Source] = None) -> None:
        """One record; `source` is where it came from (`pipeline.domain.spikes`, "source")."""
        raise NotImplementedError

    async def handle_link(self, out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int) -> None:
        raise ValueError(f"{self.name} takes no identity links")

    async def handle_single(self, out: Outbox, state: TableBatch, event: Any, kind: Optional[bytes], now: str,
                            negatives: Packer) -> None:
        """An unpacked record of header kind `kind` (from an older worker): the same as one record of a packed
        message."""
        await self.handle(out, state, event.key, event.value, event.message.partition, now, negatives,
                          (event.message.partition, event.message.offset, 0))

    async def after_batch(self, out: Outbox, state: TableBatch, partitions: set[int], now: str,
                          negatives: Packer) -> None:
        """What follows the batch's records (before the table changes are applied)."""

    async def process(self, out: Outbox, state: TableBatch, events: list[Any], now: str, negatives: Packer) -> None:
        """One batch of events (packed or single records) → the handlers, watermark headers → the trackers."""
        mono = time.monotonic()
        partitions: set[int] = set()
        for event in events:
            partition = event.message.partition
            partitions.add(partition)
            try:
                headers = dict(event.headers or {})  # read once: the watermark and the record kind
                marks = decode_marks(headers.get(WM_HEADER))
                if marks:
                    self.tracker(partition).update_all(marks, mono)
                kind = headers.get(KIND_HEADER)
                if kind == LINKS:
                    for key, value in unpack(event.value):
                        await self.handle_link(out, state, key, value, partition)
                elif kind == PACKED or kind == SOURCED:
                    offset = event.message.offset
                    for i, (key, value) in enumerate(unpack(event.value)):
                        try:
                            if kind == SOURCED:  # the record's own source travels with it
                                source, value = split_source(value)
                            else:
                                source = (partition, offset, i)
                            await self.handle(out, state, key, value, partition, now, negatives, source)
                        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the partition
                            await reject(out, event, self.name, exc, key, value)
                else:
                    await self.handle_single(out, state, event, kind, now, negatives)
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the partition
                await reject(out, event, self.name, exc)
        await self.after_batch(out, state, partitions, now, negatives)

    async def run(self, app: Any, stream: Any) -> None:
        """The agent's body: batches → `process` → the completer (outputs, then the changelog, then the acks)."""
        out, changelog = Outbox(app), self.table.changelog_topic.get_topic_name()
        log_out = Outbox(app)  # used by the completer's task only
        negatives = Packer(self.s.partitions)
        async for events, completer in completed_batches(stream, self.s.process_batch_size,
                                                         self.health.reporter(self.name)):
            state = TableBatch(self.table, self.dec_state)
            await self.process(out, state, events, now_iso(), negatives)
            records = state.apply()

            async def send_changelog(records=records) -> list[Any]:
                for key, value, partition in records:
                    await log_out.send(changelog, key, value, partition=partition)
                return log_out.take()

            await completer.submit(events, out.take(), send_changelog)


def register_stage(p: Pipeline, stage_class: type[TableStage], table_name: str, topic: str) -> TableStage:
    """A table-backed stage on the worker's app: its faust table (in-memory store, changelogged) and its agent on
    `topic`, named after the stage."""
    faust_compat.require_memory_store(p.app)  # TableBatch writes the in-memory store directly
    table = p.app.Table(table_name, partitions=p.settings.partitions, key_type=bytes, value_type=bytes)
    p.tables[table_name] = table
    stage = stage_class(p.settings, table, health=p.health)

    @p.app.agent(p.topic(topic), name=stage.name)
    async def run_stage(stream):
        await stage.run(p.app, stream)

    return stage
