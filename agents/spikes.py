"""Stage 3 (on `mentions.negative_by_brand`, keyed by brand): negative mentions counted per brand and event-time
hour, judged against the watermark of the detect partitions (`pipeline.domain.spikes`, `pipeline.runtime.watermarks`);
emits `spike` alerts on `alerts.complaints`. Batches and changelog: `agents.table_stage`."""
from __future__ import annotations

import time
from typing import Any, Optional

from pipeline import metrics
from pipeline.codec import decoder
from pipeline.contract import topics
from pipeline.contract.records import EnrichedMention
from pipeline.domain.mention import parse_timestamp
from pipeline.domain.spikes import SpikeConfig, SpikeState, advance, count_negative, evaluate, spike_alert, top_mention
from pipeline.runtime import faust_compat
from pipeline.runtime.app import Health, Pipeline, spike_config
from pipeline.runtime.outbox import Outbox
from pipeline.runtime.packing import Packer, partition_for
from pipeline.runtime.table_batch import TableBatch
from pipeline.settings import Settings
from agents.table_stage import TableStage, raise_alert

DEC_MENTION, DEC_SPIKES = decoder(EnrichedMention), decoder(SpikeState)


class SpikeStage(TableStage):
    """The `brand_spikes` table's stage (keys: brand names)."""

    name = "spikes"

    def __init__(self, settings: Settings, table: Any, cfg: Optional[SpikeConfig] = None,
                 health: Optional[Health] = None) -> None:
        super().__init__(settings, table, DEC_SPIKES, health)
        self.cfg = cfg or spike_config(settings)
        self.window_days = settings.complaint_window_days
        self.counted = {o: metrics.STAGE_MESSAGES.labels("spikes", o) for o in ("counted", "duplicate", "late")}
        self.brand_partition: dict[bytes, int] = {}

    async def handle(self, out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int, now: str,
                     negatives: Packer) -> None:
        """One negative mention of brand `key`: counted in its event-time hour (unless a duplicate or late)."""
        m = DEC_MENTION.decode(value)
        current = state.get(key) or SpikeState()
        outcome = count_negative(current, parse_timestamp(m.created_at).timestamp(),
                                 top_mention(m.mention_id, m.text, m.channel, m.customer_id, m.sentiment), self.cfg)
        self.counted[outcome].inc()
        if outcome == "counted":
            state.set(key, current, partition)

    def partition_of(self, key: bytes) -> int:
        q = self.brand_partition.get(key)
        if q is None:
            q = self.brand_partition[key] = partition_for(key, self.s.partitions)
        return q

    async def after_batch(self, out: Outbox, state: TableBatch, partitions: set[int], now: str,
                          negatives: Packer) -> None:
        """Apply each partition's watermark to its brands and raise the spikes that became certain."""
        mono = time.monotonic()
        marks = {q: self.tracker(q).current(mono) for q in partitions}
        for key in set(self.table.data.keys()) | set(state.values):
            q = self.partition_of(key)
            current = state.get(key) if q in marks else None
            if current is None:
                continue
            before = (current.watermark, len(current.alerted))
            advance(current, marks[q])
            found = evaluate(current, key.decode(), self.cfg)
            if (current.watermark, len(current.alerted)) != before or found:
                state.set(key, current, q)
            for spike in found:
                await raise_alert(out, key, spike_alert(spike, now, self.cfg, self.window_days))


def register(p: Pipeline) -> None:
    s = p.settings
    faust_compat.require_memory_store(p.app)  # TableBatch writes the in-memory store directly
    table = p.app.Table("brand_spikes", partitions=s.partitions, key_type=bytes, value_type=bytes)
    p.tables["brand_spikes"] = table
    stage = SpikeStage(s, table, health=p.health)

    @p.app.agent(p.topic(topics.NEGATIVES), name="spikes")
    async def spike_detector(stream):
        await stage.run(p.app, stream)
