"""Stage 2 (on `mentions.by_customer`): dedupe, per-customer complaint history, alert rules; emits
`mentions.enriched` and `alerts.complaints`, and the negative mentions packed per brand onto
`mentions.negative_by_brand` for the spike stage (`agents.spikes`), with this stage's watermarks in their header.
Batches and changelog: `agents.table_stage`."""
from __future__ import annotations

import time
from typing import Any, Optional

from pipeline import metrics
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.domain.escalation import CustomerHistory, EscalationConfig, is_duplicate, merge_histories, observe
from pipeline.domain.mention import parse_timestamp
from pipeline.domain.spikes import Source
from pipeline.runtime.app import Health, Pipeline, escalation_config
from pipeline.runtime.outbox import Outbox, send_packed
from pipeline.runtime.packing import KIND_HEADER, LINK, MERGE, SOURCED, Packer, with_source
from pipeline.runtime.table_batch import TableBatch
from pipeline.runtime.watermarks import MarkForwarder
from pipeline.settings import Settings
from agents.table_stage import DEC_MENTION, TableStage, raise_alert, register_stage

class DetectStage(TableStage):
    """The `customer_history` table's stage (keys: customer/prospect ids)."""

    name, state_type = "detect", CustomerHistory

    def __init__(self, settings: Settings, table: Any, health: Optional[Health] = None) -> None:
        super().__init__(settings, table, health)
        self.cfg: EscalationConfig = escalation_config(settings)
        self.forwarder = MarkForwarder(settings.partitions)
        self.marks_out: dict[int, float] = {}  # by_customer partition → its watermark, told to the spike stage
        self.ok = metrics.STAGE_MESSAGES.labels("detect", "ok")
        self.dup = metrics.STAGE_MESSAGES.labels("detect", "duplicate")

    async def handle(self, out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int, now: str,
                     negatives: Packer, source: Optional[Source] = None) -> None:
        """One mention of a customer: history, alert, the enriched row; a negative one also to the spike stage,
        with its source (this record's position: the spike stage's dedupe, `pipeline.domain.spikes`). A mention
        seen before is not sent there again."""
        m = DEC_MENTION.decode(value)
        h = state.get(key) or CustomerHistory()
        if is_duplicate(h, m.mention_id):
            # Re-emit the row (the sink is idempotent) in case the first emit was lost in a crash; never
            # re-alert: the history already counts this mention.
            self.dup.inc()
            await out.send(topics.ENRICHED, key, value)
            return
        h, alert = observe(h, m, parse_timestamp(m.created_at).timestamp(), now, self.cfg)
        self.ok.inc()
        await out.send(topics.ENRICHED, key, value)
        if alert is not None:
            await raise_alert(out, key, alert)
        state.set(key, h, partition)
        if m.brand and m.sentiment.label == "negative" and source is not None:
            negatives.add(m.brand.encode(), with_source(source, value))

    async def handle_link(self, out: Outbox, state: TableBatch, prospect: bytes, customer_id: bytes,
                          partition: int) -> None:
        """A prospect's handle joined a customer: move its history to the customer (not lost)."""
        old = state.get(prospect)
        if old is not None:
            state.set(prospect, None, partition)
            await out.send(topics.BY_CUSTOMER, customer_id, encode(old), headers=[(KIND_HEADER, MERGE)])

    async def handle_single(self, out: Outbox, state: TableBatch, event: Any, kind: Optional[bytes], now: str,
                            negatives: Packer) -> None:
        """A single record: a link/merge of the identities stage, or a mention from an older worker."""
        key: bytes = event.key
        partition = event.message.partition
        if kind == LINK:
            await self.handle_link(out, state, key, event.value, partition)
        elif kind == MERGE:
            current, other = state.get(key), self.dec_state.decode(event.value)
            state.set(key, other if current is None else merge_histories(current, other), partition)
        else:
            await self.handle(out, state, key, event.value, partition, now, negatives,
                              (partition, event.message.offset, 0))

    async def after_batch(self, out: Outbox, state: TableBatch, partitions: set[int], now: str,
                          negatives: Packer) -> None:
        """The batch's negatives, packed per brand partition, with this stage's watermarks in their header."""
        mono = time.monotonic()
        for partition in partitions:
            mark = self.tracker(partition).current(mono)
            if mark is not None:
                self.marks_out[partition] = mark
        await send_packed(out, topics.NEGATIVES, negatives, self.forwarder, self.marks_out, kind=SOURCED)


def register(p: Pipeline) -> None:
    register_stage(p, DetectStage, "customer_history", topics.BY_CUSTOMER)
