"""ClickHouse sink: batches of enriched mentions, alerts, actions and identities → ClickHouse.

Offsets are committed only after the insert succeeded: batches come from `noack_take` and are acked explicitly
after the writer returned. The writer retries (with backoff, blocking this agent = backpressure) until ClickHouse
accepts the batch; if the worker stops meanwhile, the batch stays unacked and is redelivered on restart.
(`take_events` would not do: it acks the batch in a `finally`, even when the insert failed.)"""
from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any, Callable, Sequence

from mode import Service

from pipeline import metrics, topics
from pipeline.app import Pipeline
from pipeline.codec import decoder
from pipeline.outbox import acked_batches
from pipeline.identity import author_key
from pipeline.records import Alert, AlertAction, EnrichedMention, Identity
from pipeline.sink.clickhouse import ClickHouseWriter, WriterStopped


def batch_token(table: str, events: Sequence[Any]) -> str:
    """Insert deduplication token from the batch's offsets: the same batch re-inserted after a crash is dropped."""
    spans: dict[tuple[str, int], list[int]] = {}
    for e in events:
        span = spans.setdefault((e.message.topic, e.message.partition), [e.message.offset, e.message.offset])
        span[0], span[1] = min(span[0], e.message.offset), max(span[1], e.message.offset)
    text = table + "|" + ";".join(f"{t}/{p}/{a}-{b}" for (t, p), (a, b) in sorted(spans.items()))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class _StopWriter(Service):
    """Stops the writer when the worker stops, so a retry loop blocked on a ClickHouse outage lets it exit
    (the unacked batch is redelivered on restart)."""

    def __init__(self, writer: ClickHouseWriter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.writer = writer

    async def on_stop(self) -> None:
        self.writer.stop()


def register(p: Pipeline) -> None:
    s = p.settings
    writer = ClickHouseWriter(s, on_outage=lambda o: metrics.SINK_OUTAGES.inc() if o.active else None)
    p.services["writer"] = writer
    p.app.service(_StopWriter(writer))

    async def write(table: str, fn: Callable[..., int], rows: list, events: Sequence[Any]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        try:
            n = await asyncio.to_thread(fn, rows, batch_token(table, events))
        except WriterStopped:
            # The worker is stopping during an outage: park until cancelled, leaving the batch unacked.
            await asyncio.Event().wait()
        metrics.SINK_LATENCY.labels(table).observe(time.perf_counter() - started)
        metrics.SINK_BATCH_ROWS.labels(table).observe(len(rows))
        metrics.SINK_ROWS.labels(table).inc(n)

    dec_m, dec_a, dec_act, dec_i = (decoder(EnrichedMention), decoder(Alert), decoder(AlertAction),
                                    decoder(Identity))

    @p.app.agent(p.topic(topics.ENRICHED), name="sink_mentions")
    async def sink_mentions(stream):
        async for events in acked_batches(stream, s.sink_batch_size, s.sink_flush_interval):
            rows = [dec_m.decode(e.value) for e in events]
            await write("mentions", writer.insert_mentions, rows, events)
            prospects = {(author_key(m.channel, m.author), m.customer_id) for m in rows if m.is_prospect}
            if prospects:
                await write("identities", writer.upsert_prospects, sorted(prospects), events)

    @p.app.agent(p.topic(topics.ALERTS), name="sink_alerts")
    async def sink_alerts(stream):
        async for events in acked_batches(stream, s.sink_batch_size, s.sink_flush_interval):
            await write("alerts", writer.insert_alerts, [dec_a.decode(e.value) for e in events], events)

    @p.app.agent(p.topic(topics.ACTIONS), name="sink_actions")
    async def sink_actions(stream):
        async for events in acked_batches(stream, s.sink_batch_size, s.sink_flush_interval):
            rows = []
            for e in events:
                try:
                    rows.append(dec_act.decode(e.value))
                except Exception:  # noqa: BLE001 - a malformed action is skipped, counted
                    metrics.STAGE_MESSAGES.labels("sink_actions", "invalid").inc()
            await write("alert_actions", writer.apply_actions, rows, events)

    @p.app.agent(p.topic(topics.IDENTITIES), name="sink_identities")
    async def sink_identities(stream):
        async for events in acked_batches(stream, s.sink_batch_size, s.sink_flush_interval):
            items = [(e.key.decode(), None if e.value is None else dec_i.decode(e.value))
                     for e in events if e.key is not None]
            await write("identities", writer.upsert_identities, items, events)
