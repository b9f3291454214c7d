"""The ClickHouse sink as a service of the worker: its own aiokafka consumer (consumer group `<app_id>-sink`) on the
public topics, batches of records → ClickHouse, offsets committed only after the insert (I/O).

Why not faust agents: faust's per-record consume machinery (events, acks, four futures per record) cost more than
decoding and inserting a row; `getmany` hands over thousands of records per call. Guarantees as before
(docs/guarantees.md): a batch's offsets are committed only after ClickHouse acknowledged every insert of the batch;
while ClickHouse is down the insert retries with backoff and the service takes no new batch (the partitions pause);
a batch in hand when its partitions are revoked is dropped uncommitted (its records go to the new owner, the
inserts are idempotent); when the worker stops during an outage, nothing is committed."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Optional, Sequence

from mode import Service

from pipeline import metrics
from pipeline.adapters.clickhouse.writer import ClickHouseWriter, WriterStopped, batch_token
from pipeline.codec import decoder
from pipeline.contract import topics
from pipeline.contract.records import Alert, AlertAction, EnrichedMention, Identity
from pipeline.contract.topics import SINK_TOPICS, sink_group
from pipeline.domain.feedback import VERDICTS
from pipeline.domain.identity import author_key
from pipeline.runtime.rollup_refresher import RollupRefresher
from pipeline.settings import Settings

log = logging.getLogger(__name__)

def offset_spans(records: Sequence[Any]) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) → (first, last) offset of the records: the batch's identity for dedup and commit."""
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for r in records:
        key = (r.topic, r.partition)
        lo, hi = spans.get(key, (r.offset, r.offset))
        spans[key] = (min(lo, r.offset), max(hi, r.offset))
    return spans


class SinkService(Service):
    """Consume → decode → insert → commit, one batch at a time (see the module docstring)."""

    def __init__(self, s: Settings, writer: Optional[ClickHouseWriter] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.s = s
        self.writer = writer or ClickHouseWriter(
            s, on_outage=lambda o: metrics.SINK_OUTAGES.inc() if o.active else None)
        self.consumer: Any = None
        self.generation = 0  # bumped at every revoke: a batch of an older generation is not committed
        self.uncommitted: dict[Any, int] = {}  # offsets inserted but whose commit failed: retried, never dropped
        self.batches = 0
        self.refresher = RollupRefresher(s)  # keeps the KPI rollups fresh (docs/analytics.md)
        self._dec = {topics.ENRICHED: decoder(EnrichedMention), topics.ALERTS: decoder(Alert),
                     topics.ACTIONS: decoder(AlertAction), topics.IDENTITIES: decoder(Identity)}

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.abc import ConsumerRebalanceListener

        from pipeline.adapters.kafka.config import aiokafka_config

        service = self

        class Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked: Any) -> None:
                service.generation += 1
                service.uncommitted.clear()  # the partitions' next owner re-reads from the last commit

            async def on_partitions_assigned(self, assigned: Any) -> None:
                log.info("sink assigned %d partitions (generation %d)", len(assigned), service.generation)

        self.consumer = AIOKafkaConsumer(
            **aiokafka_config(self.s), group_id=sink_group(self.s.app_id), enable_auto_commit=False,
            auto_offset_reset="earliest", max_partition_fetch_bytes=1 << 20, fetch_max_bytes=8 << 20,
            fetch_max_wait_ms=int(min(self.s.sink_flush_interval, 0.5) * 1000), max_poll_interval_ms=600_000,
            client_id=f"{self.s.app_id}-sink")
        await self.consumer.start()
        self.consumer.subscribe(list(SINK_TOPICS), listener=Listener())
        self.add_future(self._run())
        self.add_future(self._observe_lag())
        self.refresher.start()

    async def on_stop(self) -> None:
        self.writer.stop()  # a retry loop blocked on an outage gives up: nothing is committed
        await asyncio.to_thread(self.refresher.stop)
        if self.consumer is not None:
            try:
                await self.consumer.stop()
            except Exception as exc:  # noqa: BLE001 - stopping anyway
                log.warning("sink consumer stop: %r", exc)

    async def _run(self) -> None:
        interval = self.s.sink_flush_interval
        while not self.should_stop:
            started = time.monotonic()
            generation = self.generation
            records: list[Any] = []
            while len(records) < self.s.sink_batch_size and not self.should_stop:
                left = interval - (time.monotonic() - started)
                if records and left <= 0:
                    break
                got = await self.consumer.getmany(timeout_ms=max(int(left * 1000), 10) if records else 500,
                                                  max_records=self.s.sink_batch_size - len(records))
                if got and not records:
                    # The batch belongs to the assignment its first records came from: aiokafka returns records only
                    # once a rebalance is over, so read the generation after the fetch, not before it (a snapshot
                    # taken before the group's first join skipped the first batch's commit for good).
                    generation = self.generation
                for batch in got.values():
                    records.extend(batch)
                if not records and not got:
                    started = time.monotonic()  # idle: the flush window starts at the first record
                    if self.uncommitted:
                        await self._commit([], self.generation)  # retry a failed commit while idle
            if not records or self.should_stop:
                continue
            try:
                await self.write(records)
            except WriterStopped:
                return  # the worker is stopping during an outage: nothing committed, redelivered on restart
            await self._commit(records, generation)
            self.batches += 1

    async def _observe_lag(self) -> None:
        """socialpulse_consumer_lag for the sink's topics (high-water mark − committed offset of its partitions)."""
        while not self.should_stop:
            await self.sleep(5.0)
            try:
                lag: dict[str, int] = {t: 0 for t in SINK_TOPICS}
                for tp in self.consumer.assignment():
                    high = self.consumer.highwater(tp)
                    if high is None:
                        continue
                    done = await self.consumer.committed(tp) or 0
                    lag[tp.topic] = lag.get(tp.topic, 0) + max(0, high - done)
                for topic, n in lag.items():
                    metrics.CONSUMER_LAG.labels(topic).set(n)
            except Exception as exc:  # noqa: BLE001 - a metric; the next round retries
                log.debug("sink lag: %r", exc)

    async def write(self, records: Sequence[Any]) -> None:
        """Insert one batch (every table it touches) or raise WriterStopped."""
        by_topic: dict[str, list[Any]] = {}
        for r in records:
            by_topic.setdefault(r.topic, []).append(r)
        mentions = by_topic.get(topics.ENRICHED, [])
        if mentions:
            rows = [self._dec[topics.ENRICHED].decode(r.value) for r in mentions]
            await self._insert("mentions", self.writer.insert_mentions, rows, mentions)
            prospects = {(author_key(m.channel, m.author), m.customer_id) for m in rows if m.is_prospect}
            if prospects:
                await self._insert("identities", self.writer.upsert_prospects, sorted(prospects), mentions)
        alerts = by_topic.get(topics.ALERTS, [])
        if alerts:
            await self._insert("alerts", self.writer.insert_alerts,
                               [self._dec[topics.ALERTS].decode(r.value) for r in alerts], alerts)
        actions = by_topic.get(topics.ACTIONS, [])
        if actions:
            rows = []
            for r in actions:
                try:
                    rows.append(self._dec[topics.ACTIONS].decode(r.value))
                except Exception:  # noqa: BLE001 - a malformed action is skipped, counted
                    metrics.STAGE_MESSAGES.labels("sink_actions", "invalid").inc()
            # Verdicts on the complaint model go to complaint_feedback; they change no alert's state.
            await self._insert("alert_actions", self.writer.apply_actions,
                               [a for a in rows if a.action not in VERDICTS], actions)
            await self._insert("complaint_feedback", self.writer.insert_feedback,
                               [a for a in rows if a.action in VERDICTS], actions)
        identities = by_topic.get(topics.IDENTITIES, [])
        if identities:
            items = [(r.key.decode(), None if r.value is None else self._dec[topics.IDENTITIES].decode(r.value))
                     for r in identities if r.key is not None]
            await self._insert("identities", self.writer.upsert_identities, items, identities)

    async def _insert(self, table: str, fn: Callable[..., int], rows: list, records: Sequence[Any]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        n = await asyncio.to_thread(fn, rows, batch_token(table, offset_spans(records)))
        metrics.SINK_LATENCY.labels(table).observe(time.perf_counter() - started)
        metrics.SINK_BATCH_ROWS.labels(table).observe(len(rows))
        metrics.SINK_ROWS.labels(table).inc(n)

    async def _commit(self, records: Sequence[Any], generation: int) -> None:
        """Commit the batch (and any earlier batch whose commit failed) unless its partitions were revoked since."""
        from aiokafka import TopicPartition
        from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

        if generation != self.generation:
            return  # revoked meanwhile: the new owner re-reads these records (idempotent inserts)
        for (t, p), (_, hi) in offset_spans(records).items():
            tp = TopicPartition(t, p)
            self.uncommitted[tp] = max(self.uncommitted.get(tp, 0), hi + 1)
        assigned = self.consumer.assignment()
        offsets = {tp: o for tp, o in self.uncommitted.items() if tp in assigned}
        if not offsets:
            self.uncommitted.clear()
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.info("sink commit dropped after a rebalance (the records are re-read): %s", exc)
            self.uncommitted.clear()
        except KafkaError as exc:
            log.warning("sink commit failed, retried with the next batch or in a second: %r", exc)
            await asyncio.sleep(1.0)
        else:
            for tp, o in offsets.items():
                if self.uncommitted.get(tp) == o:
                    del self.uncommitted[tp]
