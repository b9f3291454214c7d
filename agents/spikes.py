"""Stage 3 (on `mentions.negative_by_brand`, keyed by brand): negative mentions counted per brand and event-time
hour, judged against the watermark of the detect partitions (`pipeline.domain.spikes`, `pipeline.runtime.watermarks`);
emits `spike` alerts on `alerts.complaints`. Batches and changelog: `agents.table_stage`."""
from __future__ import annotations

import time
from typing import Any, Optional

from pipeline import metrics
from pipeline.contract import topics
from pipeline.domain.mention import parse_timestamp
from pipeline.domain.spikes import (Source, SpikeConfig, SpikeState, advance, count_negative, evaluate, spike_alert,
                                    top_mention)
from pipeline.runtime.app import Health, Pipeline, spike_config
from pipeline.runtime.outbox import Outbox
from pipeline.runtime.packing import Packer, partition_for
from pipeline.runtime.table_batch import TableBatch
from pipeline.settings import Settings
from agents.table_stage import DEC_MENTION, TableStage, raise_alert, register_stage

class SpikeStage(TableStage):
    """The `brand_spikes` table's stage (keys: brand names)."""

    name, state_type = "spikes", SpikeState

    def __init__(self, settings: Settings, table: Any, health: Optional[Health] = None) -> None:
        super().__init__(settings, table, health)
        self.cfg: SpikeConfig = spike_config(settings)
        self.window_days = settings.complaint_window_days
        self.counted = {o: metrics.STAGE_MESSAGES.labels("spikes", o) for o in ("counted", "duplicate", "late")}
        self.brand_partition: dict[bytes, int] = {}

    async def handle(self, out: Outbox, state: TableBatch, key: bytes, value: bytes, partition: int, now: str,
                     negatives: Packer, source: Optional[Source] = None) -> None:
        """One negative mention of brand `key` (`source`: where the detect stage read it; None for a record of a
        worker older than sources): counted in its event-time hour (unless a duplicate or late)."""
        m = DEC_MENTION.decode(value)
        current = state.get(key) or SpikeState()
        outcome = count_negative(current, parse_timestamp(m.created_at).timestamp(),
                                 top_mention(m.mention_id, m.text, m.channel, m.customer_id, m.sentiment), self.cfg,
                                 source)
        self.counted[outcome].inc()
        if outcome != "duplicate":  # counted, or late: the source's high-water mark moved either way
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
    register_stage(p, SpikeStage, "brand_spikes", topics.NEGATIVES)
