"""Stage 1 (on `mentions.raw`): validate, normalise, score sentiment + complaint, resolve the author; re-key by
customer id onto `mentions.by_customer`, packed: one message per target partition and batch (`pipeline.runtime.packing`);
rejects to `mentions.deadletter`. Batched (see `pipeline.runtime.outbox`): a batch is acked only after the broker
acknowledged everything it produced.

Also counts why each mention is addressed to a brand (`socialpulse_mentions_addressed_total{reason}`, per batch),
publishes the handles learned per brand every 30 s and warms the handle learner from ClickHouse at start (the
handles the brands' mentions of the last 30 days addressed; best effort). See docs/brands.md."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from typing import Any, Callable, Optional

from pipeline import metrics
from pipeline.adapters.clickhouse.brand_handles import (SEED_DAYS, AddressedHandle, fetch_addressed_handles,
                                                        learner_rows)
from pipeline.adapters.clickhouse.errors import describe_error
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.contract.records import DeadLetter
from pipeline.domain.addressing import Addressing
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
#: Brands whose learned handles are exported as metric labels at most (the most learned first): brand names come
#: from the producers, and a label per brand must not grow without bound.
MAX_BRAND_LABELS = 200
#: Handles per brand in `socialpulse_brand_addressed_handle_mentions`.
TOP_HANDLES = 3

log = logging.getLogger(__name__)


class CountingAddressing(Addressing):
    """The processor's addressing rules, counting the reason of each mention they judge: `MentionProcessor.process`
    asks `addressed` once per mention, so the reason is computed once and counted on the way (a dict increment)."""

    __slots__ = ("counts",)

    def __init__(self, rules: Addressing) -> None:
        super().__init__(rules.brands, rules.learner, resemble=rules.resemble)
        self.counts: defaultdict[Optional[str], int] = defaultdict(int)  # reason (None: not addressed) → mentions

    def addressed(self, text: str, channel: str, brand: Optional[str] = None,
                  handles: Optional[list[str]] = None) -> bool:
        reason = self.reason(text, channel, brand, handles)
        self.counts[reason] += 1
        return reason is not None


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
        self.addressing = processor.addressing = CountingAddressing(processor.addressing)
        self.reasons = {None if r == "none" else r: metrics.MENTIONS_ADDRESSED.labels(r)
                        for r in metrics.ADDRESSING_REASONS}
        self.learned_labels: set[str] = set()
        self.top_labels: set[tuple[str, str]] = set()
        metrics.BRANDS_CONFIGURED.set(len(processor.brands))
        self.priors_logged: dict[str, float] = {}

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
        self.count_addressed()

    def count_addressed(self) -> None:
        """The batch's addressing reasons onto the counter (one `inc` per reason and batch, not per mention)."""
        counts = self.addressing.counts
        for reason, n in counts.items():
            self.reasons[reason].inc(n)
        counts.clear()

    def observe_learned(self) -> None:
        """`socialpulse_brand_handles_learned{brand}` from the learner: the MAX_BRAND_LABELS brands with the most
        learned handles; a brand that drops out (or has none left) loses its label."""
        learner = self.addressing.learner
        if learner is None:
            return
        sizes = sorted(((len(learner.learned(b)), b) for b in learner.brands), key=lambda nb: (-nb[0], nb[1]))
        shown = {brand: n for n, brand in sizes[:MAX_BRAND_LABELS] if n}
        for brand in self.learned_labels - shown.keys():
            with contextlib.suppress(KeyError):  # removed already (another stage of this process)
                metrics.BRAND_HANDLES_LEARNED.remove(brand)
        for brand, n in shown.items():
            metrics.BRAND_HANDLES_LEARNED.labels(brand).set(n)
        self.learned_labels = set(shown)
        top = {(brand, handle): count for brand in shown for handle, count in learner.top(brand, TOP_HANDLES)}
        for key in self.top_labels - top.keys():
            with contextlib.suppress(KeyError):
                metrics.BRAND_TOP_HANDLES.remove(*key)
        for (brand, handle), count in top.items():
            metrics.BRAND_TOP_HANDLES.labels(brand, handle).set(count)
        self.top_labels = set(top)

    def observe_priors(self) -> None:
        """`socialpulse_complaint_prior_estimate{channel}` from the first stage's tracker, and one log line when a
        channel's estimate changes (estimates move in steps of 2.5 points, so this is rare on a steady stream)."""
        processor = self.processor
        for channel, prior in processor.tracker.estimates().items():
            metrics.COMPLAINT_PRIOR_ESTIMATE.labels(channel).set(prior)
            if self.priors_logged.get(channel) != prior:
                self.priors_logged[channel] = prior
                log.info("complaint share of %s estimated at %.3f from its scores (the model is calibrated for "
                         "%.3f; %s)", channel, prior, processor.model.training_prior,
                         "applied: SOCIALPULSE_COMPLAINT_PRIORS=auto" if processor.auto_prior else
                         f"to apply it set SOCIALPULSE_COMPLAINT_PRIORS={channel}={prior:.3f} or auto")

    async def warm_start(self, fetch: Callable[[], list[AddressedHandle]]) -> int:
        """Seed the handle learner with what `fetch` (run in a thread) counts in ClickHouse; the seed is applied on
        the event loop, between batches. Best effort: a failure is one warning line and the learner starts cold.
        Returns the handles seeded."""
        learner = self.addressing.learner
        if learner is None:
            return 0
        try:
            found = await asyncio.to_thread(fetch)
        except Exception as exc:  # noqa: BLE001 - best effort: any failure leaves the learner cold, never the worker
            log.warning("handle learner starts cold: could not read the handles of the last %d days from ClickHouse "
                        "(%s)", SEED_DAYS, describe_error(exc))
            return 0
        rows = learner_rows(found)
        learner.seed(rows)
        self.observe_learned()
        log.info("handle learner seeded from ClickHouse: %d handles of %d brands (last %d days), %d learned",
                 len(rows), len({r[0] for r in rows}), SEED_DAYS, sum(len(learner.learned(b)) for b in learner.brands))
        return len(rows)


def register(p: Pipeline) -> None:
    s = p.settings
    table = IdentityTable(s)
    p.identities = table
    p.app.service(table)
    stage = IngestStage(s, MentionProcessor.from_settings(s), table.get)

    if stage.addressing.learner is not None:
        @p.app.task
        async def warm_handle_learner() -> None:
            await stage.warm_start(lambda: fetch_addressed_handles(s))

        @p.app.timer(30.0)
        async def observe_learned_handles() -> None:
            stage.observe_learned()

    @p.app.timer(30.0)
    async def observe_complaint_priors() -> None:
        stage.observe_priors()

    @p.app.agent(p.topic(topics.RAW), name="ingest")
    async def ingest(stream):
        await table.ready.wait()  # never resolve against a half-recovered identity table
        out = Outbox(p.app)
        async for events, completer in completed_batches(stream, s.process_batch_size, p.health.reporter("ingest")):
            await stage.process(out, events, now_iso())
            await completer.submit(events, out.take())
