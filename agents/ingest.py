"""Stage 1 (on `mentions.raw`): validate, normalise, score sentiment + complaint, resolve the author; re-key by
customer id onto `mentions.by_customer`, packed: one message per target partition and batch (`pipeline.runtime.packing`);
rejects to `mentions.deadletter`. Batched (see `pipeline.runtime.outbox`): a batch is acked only after the broker
acknowledged everything it produced."""
from __future__ import annotations

import time

from pipeline import metrics
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.contract.records import DeadLetter
from pipeline.domain.enrich import MentionProcessor, RawMessage
from pipeline.domain.mention import parse_timestamp
from pipeline.runtime.app import Pipeline, now_iso
from pipeline.runtime.identity_table import IdentityTable
from pipeline.runtime.outbox import Outbox, completed_batches, send_packed
from pipeline.runtime.packing import Packer
from pipeline.runtime.watermarks import MarkForwarder

#: Event times further ahead of this worker's clock than this do not move the watermark (bad producer clocks).
MAX_FUTURE_S = 300.0


def register(p: Pipeline) -> None:
    s = p.settings
    table = IdentityTable(s)
    p.identities = table
    p.app.service(table)
    processor = MentionProcessor.from_settings(s)
    ok = metrics.STAGE_MESSAGES.labels("ingest", "ok")
    rejected = metrics.STAGE_MESSAGES.labels("ingest", "deadletter")
    dlq = metrics.DEADLETTERS

    @p.app.agent(p.topic(topics.RAW), name="ingest")
    async def ingest(stream):
        await table.ready.wait()  # never resolve against a half-recovered identity table
        out = Outbox(p.app)
        packer = Packer(s.partitions)
        forwarder = MarkForwarder(s.partitions)
        marks: dict[int, float] = {}  # raw partition → latest event time processed there (pipeline.runtime.watermarks)
        async for events, completer in completed_batches(stream, s.process_batch_size, p.health.reporter("ingest")):
            now = now_iso()
            scored = 0
            latest: dict[int, str] = {}  # ISO times of one format compare as the times do
            for event in events:
                msg = event.message
                result = processor.process(RawMessage(msg.topic, msg.partition, msg.offset, int(msg.timestamp * 1000),
                                                   msg.key, msg.value), table.get, now)
                if isinstance(result, DeadLetter):
                    rejected.inc()
                    dlq.labels(result.stage).inc()
                    await out.send(topics.DEADLETTER, msg.key, encode(result))
                else:
                    scored += 1
                    packer.add(result.customer_id.encode(), encode(result))
                    if result.created_at > latest.get(msg.partition, ""):
                        latest[msg.partition] = result.created_at
            ceiling = time.time() + MAX_FUTURE_S  # a far-future created_at must not close every hour
            for partition, iso in latest.items():
                marks[partition] = max(marks.get(partition, 0.0), min(parse_timestamp(iso).timestamp(), ceiling))
            await send_packed(out, topics.BY_CUSTOMER, packer, forwarder, marks)
            ok.inc(scored)
            await completer.submit(events, out.take())
