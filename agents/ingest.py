"""Stage 1 (on `mentions.raw`): validate, normalise, score sentiment + complaint, resolve the author; re-key by
customer id onto `mentions.by_customer`, packed: one message per target partition and batch (`pipeline.runtime.packing`);
rejects to `mentions.deadletter`. Batched (see `pipeline.runtime.outbox`): a batch is acked only after the broker
acknowledged everything it produced."""
from __future__ import annotations

import time
from typing import Any

from pipeline import metrics
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.contract.records import DeadLetter
from pipeline.domain.enrich import Lookup, MentionProcessor, RawMessage
from pipeline.domain.mention import parse_timestamp
from pipeline.runtime.app import Pipeline, now_iso
from pipeline.runtime.identity_table import IdentityTable
from pipeline.runtime.outbox import Outbox, completed_batches, send_packed
from pipeline.runtime.packing import Packer
from pipeline.runtime.watermarks import MarkForwarder
from pipeline.settings import Settings

#: Event times further ahead of this worker's clock than this do not move the watermark (bad producer clocks).
MAX_FUTURE_S = 300.0


class IngestStage:
    """Raw mentions → scored, resolved mentions packed per customer partition, dead letters, and the raw
    partitions' event-time progress (the `sp-wm` header) for the stages downstream."""

    def __init__(self, settings: Settings, processor: MentionProcessor, lookup: Lookup) -> None:
        self.s, self.processor, self.lookup = settings, processor, lookup
        self.packer = Packer(settings.partitions)
        self.forwarder = MarkForwarder(settings.partitions)
        self.marks: dict[int, float] = {}  # raw partition → latest event time processed there
        self.ok = metrics.STAGE_MESSAGES.labels("ingest", "ok")
        self.rejected = metrics.STAGE_MESSAGES.labels("ingest", "deadletter")

    async def process(self, out: Outbox, events: list[Any], now: str) -> None:
        """One batch of `mentions.raw` events → `out` (packed mentions, dead letters, watermark headers)."""
        scored = 0
        latest: dict[int, str] = {}  # ISO times of one format compare as the times do
        for event in events:
            msg = event.message
            result = self.processor.process(RawMessage(msg.topic, msg.partition, msg.offset,
                                                       int(msg.timestamp * 1000), msg.key, msg.value),
                                            self.lookup, now)
            if isinstance(result, DeadLetter):
                self.rejected.inc()
                metrics.DEADLETTERS.labels(result.stage).inc()
                await out.send(topics.DEADLETTER, msg.key, encode(result))
            else:
                scored += 1
                self.packer.add(result.customer_id.encode(), encode(result))
                if result.created_at > latest.get(msg.partition, ""):
                    latest[msg.partition] = result.created_at
        ceiling = time.time() + MAX_FUTURE_S  # a far-future created_at must not close every hour
        for partition, iso in latest.items():
            self.marks[partition] = max(self.marks.get(partition, 0.0),
                                        min(parse_timestamp(iso).timestamp(), ceiling))
        await send_packed(out, topics.BY_CUSTOMER, self.packer, self.forwarder, self.marks)
        self.ok.inc(scored)


def register(p: Pipeline) -> None:
    s = p.settings
    table = IdentityTable(s)
    p.identities = table
    p.app.service(table)
    stage = IngestStage(s, MentionProcessor.from_settings(s), table.get)

    @p.app.agent(p.topic(topics.RAW), name="ingest")
    async def ingest(stream):
        await table.ready.wait()  # never resolve against a half-recovered identity table
        out = Outbox(p.app)
        async for events, completer in completed_batches(stream, s.process_batch_size, p.health.reporter("ingest")):
            await stage.process(out, events, now_iso())
            await completer.submit(events, out.take())
