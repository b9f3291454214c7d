"""Stage 1 (on `mentions.raw`): validate, normalise, score sentiment + complaint, resolve the author; re-key by
customer id onto `mentions.by_customer`; rejects to `mentions.deadletter`. Batched with `take_events`: this
stage has no table, so batching is safe and amortises Faust's per-event cost."""
from __future__ import annotations

from pipeline import metrics, topics
from pipeline.app import Pipeline, now_iso
from pipeline.codec import encode
from pipeline.complaints import ComplaintModel
from pipeline.identity_table import IdentityTable
from pipeline.processor import MentionProcessor, RawMessage
from pipeline.records import DeadLetter


def register(p: Pipeline) -> None:
    s = p.settings
    table = IdentityTable(s)
    p.services["identities"] = table
    p.app.service(table)
    processor = MentionProcessor(ComplaintModel.load_default(), score_cap=s.score_text_cap,
                                 threshold=s.complaint_threshold)
    by_customer, deadletter = p.topic(topics.BY_CUSTOMER), p.topic(topics.DEADLETTER)
    ok = metrics.STAGE_MESSAGES.labels("ingest", "ok")
    rejected = metrics.STAGE_MESSAGES.labels("ingest", "deadletter")
    dlq = metrics.DEADLETTERS

    @p.app.agent(p.topic(topics.RAW), name="ingest")
    async def ingest(stream):
        await table.ready.wait()  # never resolve against a half-recovered identity table
        async for events in stream.take_events(s.process_batch_size, within=0.05):
            now = now_iso()
            for event in events:
                msg = event.message
                out = processor.process(RawMessage(msg.topic, msg.partition, msg.offset, int(msg.timestamp * 1000),
                                                   msg.key, msg.value), table.get, now)
                if isinstance(out, DeadLetter):
                    rejected.inc()
                    dlq.labels(out.stage).inc()
                    await deadletter.send(key=msg.key, value=encode(out))
                else:
                    ok.inc()
                    await by_customer.send(key=out.customer_id.encode(), value=encode(out))
