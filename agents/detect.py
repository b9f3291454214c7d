"""Stage 2 (on `mentions.by_customer`): dedupe, per-customer complaint history, alert rules; emits
`mentions.enriched` and `alerts.complaints`. Per-event iteration because it updates a table (see NOTES)."""
from __future__ import annotations

from pipeline import metrics, topics
from pipeline.app import Pipeline, escalation_config, now_iso
from pipeline.codec import decoder, encode
from pipeline.escalation import BrandSpikeState, CustomerHistory, is_duplicate, merge_histories, observe, \
    observe_negative, spike_alert
from pipeline.ingest import dead_letter, parse_timestamp
from pipeline.records import EnrichedMention

LINK = b"link"
MERGE = b"merge"
KIND_HEADER = "sp-kind"


def register(p: Pipeline) -> None:
    s = p.settings
    cfg = escalation_config(s)
    history = p.app.Table("customer_history", partitions=s.partitions, key_type=bytes, value_type=bytes)
    spikes = p.app.Table("brand_spikes", partitions=s.partitions, key_type=bytes, value_type=bytes)
    p.tables.update(customer_history=history, brand_spikes=spikes)
    dec_mention, dec_history, dec_spike = decoder(EnrichedMention), decoder(CustomerHistory), decoder(BrandSpikeState)
    enriched, alerts = p.topic(topics.ENRICHED), p.topic(topics.ALERTS)
    by_customer, negatives = p.topic(topics.BY_CUSTOMER), p.topic(topics.NEGATIVES)
    ok = metrics.STAGE_MESSAGES.labels("detect", "ok")
    dup = metrics.STAGE_MESSAGES.labels("detect", "duplicate")

    async def raise_alert(key: bytes, alert) -> None:
        metrics.ALERTS.labels(alert.type, alert.severity).inc()
        await alerts.send(key=key, value=encode(alert))

    deadletter = p.topic(topics.DEADLETTER)

    async def reject(event, stage: str, exc: Exception) -> None:
        """A record this stage cannot handle (a bug or a foreign producer): dead-letter it, keep going."""
        msg = event.message
        metrics.DEADLETTERS.labels(stage).inc()
        letter = dead_letter(f"{type(exc).__name__}: {exc}", stage, msg.topic, msg.partition, msg.offset, msg.key,
                             msg.value, now_iso())
        await deadletter.send(key=msg.key, value=encode(letter))

    @p.app.agent(by_customer, name="detect")
    async def detect(stream):
        async for event in stream.events():
            try:
                await handle(event)
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the partition
                await reject(event, "detect", exc)

    async def handle(event) -> None:
        key: bytes = event.key
        kind = dict(event.headers or {}).get(KIND_HEADER)
        if kind == LINK:
            # A prospect's handle joined a customer: move its history to the customer (not lost).
            old = history.get(key)
            if old is not None:
                history.pop(key, None)
                target = event.value  # customer id
                await by_customer.send(key=target, value=old, headers={KIND_HEADER: MERGE})
            return
        if kind == MERGE:
            current = history.get(key)
            merged = dec_history.decode(event.value) if current is None else \
                merge_histories(dec_history.decode(current), dec_history.decode(event.value))
            history[key] = encode(merged)
            return
        m = dec_mention.decode(event.value)
        raw = history.get(key)
        h = CustomerHistory() if raw is None else dec_history.decode(raw)
        if is_duplicate(h, m.mention_id):
            # Re-emit the row (the sink is idempotent) in case the first emit was lost in a crash; never
            # re-alert: the history already counts this mention.
            dup.inc()
            await enriched.send(key=key, value=event.value)
            return
        ts = parse_timestamp(m.created_at).timestamp()
        h, alert = observe(h, m, ts, now_iso(), cfg)
        ok.inc()
        # Outputs first, then the table update: its changelog never gets ahead of what was emitted.
        await enriched.send(key=key, value=event.value)
        if alert is not None:
            await raise_alert(key, alert)
        history[key] = encode(h)
        if m.brand and m.sentiment.label == "negative":
            await negatives.send(key=m.brand.encode(), value=event.value)

    @p.app.agent(negatives, name="spikes")
    async def spike_detector(stream):
        async for event in stream.events():
            try:
                await handle_negative(event)
            except Exception as exc:  # noqa: BLE001
                await reject(event, "spikes", exc)

    async def handle_negative(event) -> None:
        m = dec_mention.decode(event.value)
        raw = spikes.get(event.key)
        state = BrandSpikeState() if raw is None else dec_spike.decode(raw)
        state, spike = observe_negative(state, m.brand or "", parse_timestamp(m.created_at).timestamp(), cfg)
        spikes[event.key] = encode(state)
        if spike is not None:
            await raise_alert(event.key, spike_alert(spike, m, now_iso(), cfg))
