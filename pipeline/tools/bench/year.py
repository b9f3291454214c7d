"""A synthetic year of social listening for `socialpulse bench --analytics` (pure, seeded, chunked; no I/O).

The records are the sink's own (`EnrichedMention`, `Alert`, `AlertAction`, CRM `Identity`), so the benchmark writes
them through `ClickHouseWriter` like the worker does. Every batch is a function of (shape, batch index) alone: a
100M-mention year is generated one sink-sized batch at a time and never sits in memory.

Shapes: mentions spread evenly over `days` days with a diurnal hour profile; 20 brands and 6 channels with skewed
shares; authors drawn with Zipf-like (1/rank) activity, a third of the mentions by known customers (`mentions / 50`
customers, one or two handles each), the rest by prospects (`mentions / 25` authors); ~30 % negative, ~45 %
positive; about a third of the mentions are complaints and each complaint raises one alert (≈ mentions / 3 alerts,
as in issue 25's measurement); alerts older than three days are mostly resolved, newer ones partly acked; a few
get a verdict on the complaint model."""
from __future__ import annotations

import itertools
import math
import random
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator, Optional

from pipeline.contract.records import (Alert, AlertAction, ComplaintInfo, CustomerContext, EnrichedMention, Identity,
                                       PriorComplaints, Sentiment)
from pipeline.domain.identity import author_key, influence, prospect_id
from pipeline.domain.mention import to_iso

BRANDS = ("acme", "aerolux", "novabank", "quickcart", "streamly", "voltmobile", "greenbite", "urbanfit", "skyhotels",
          "pixelphone", "homenest", "medicare-plus", "fastship", "brightenergy", "cinemax", "petpals", "bookwise",
          "autozen", "travelo", "gamerush")
CHANNELS = ("twitter", "facebook", "instagram", "reviews", "email", "support")
CHANNEL_WEIGHTS = (40, 20, 15, 10, 8, 7)
#: Mentions per hour of the day (UTC): quiet nights, a morning rise, evening peak.
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 10, 9, 7, 5, 3)
TIERS = (("standard", 80), ("gold", 15), ("platinum", 5))
LABELS = (("negative", 30), ("positive", 45), ("neutral", 25))
#: Probability that a mention of each label is a complaint (≈ 0.34 overall: one alert per complaint).
COMPLAINT_P = {"negative": 0.9, "neutral": 0.25, "positive": 0.02}
CUES = ("refund", "waiting", "broken", "cancel", "never again", "no answer", "charged twice", "late")
_TEXTS = {
    "negative": ("still waiting for my refund from {b}, three weeks now", "{b} charged me twice and support is silent",
                 "worst experience with {b} ever, the order arrived broken", "{b} cancelled my booking without a word"),
    "positive": ("love the new {b} app, checkout took ten seconds", "{b} support sorted my issue in minutes, thanks!",
                 "great service from {b} again today", "the {b} team went above and beyond for us"),
    "neutral": ("does anyone know when {b} opens on sundays?", "switching my plan at {b} next month",
                "{b} announced new prices today", "is the {b} store downtown still open?"),
}
_HOURS = tuple(range(24))
_HOUR_CUM = tuple(itertools.accumulate(HOUR_WEIGHTS))
_BRAND_CUM = tuple(itertools.accumulate(1 / (i + 1) for i in range(len(BRANDS))))
_CHANNEL_CUM = tuple(itertools.accumulate(CHANNEL_WEIGHTS))
_LABEL_NAMES = tuple(x for x, _ in LABELS)
_LABEL_CUM = tuple(itertools.accumulate(w for _, w in LABELS))


@dataclass(frozen=True)
class YearShape:
    """What to generate: `mentions` over the `days` days before `end` (UTC), in batches of `batch_size` rows."""

    mentions: int
    end: datetime
    seed: int = 25
    days: int = 365
    batch_size: int = 2000
    duplicate_share: float = 0.02  # share of batches written twice (a replay after a crash)
    customer_share: float = 1 / 3  # share of mentions by known customers

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    @property
    def customers(self) -> int:
        return max(1, self.mentions // 50)

    @property
    def prospects(self) -> int:
        return max(1, self.mentions // 25)

    @property
    def batches(self) -> int:
        return math.ceil(self.mentions / self.batch_size)


@dataclass
class Batch:
    """One sink batch: its mentions, the alerts they raised, actions on those alerts, prospects seen, verdicts."""

    index: int
    mentions: list[EnrichedMention]
    alerts: list[Alert]
    actions: list[AlertAction]
    verdicts: list[AlertAction]
    prospects: list[tuple[str, str]]  # (identity key, prospect id), as the sink records unknown authors


def replayed_batches(shape: YearShape) -> frozenset[int]:
    """The batches written twice: every 1/duplicate_share-th one (at least one when duplicates are asked for)."""
    if shape.duplicate_share <= 0 or shape.batches == 0:
        return frozenset()
    period = max(1, round(1 / shape.duplicate_share))
    chosen = {b for b in range(shape.batches) if b % period == period // 2}
    return frozenset(chosen or {shape.batches // 2})


def _zipf_rank(rng: random.Random, population: int) -> int:
    """A rank in [0, population) with P(rank r) ∝ 1/(r+1): a few very active authors, a long tail."""
    return min(population - 1, int(math.exp(rng.random() * math.log(population + 1))) - 1)


@lru_cache(maxsize=1 << 16)
def customer_handles(shape: YearShape, k: int) -> tuple[tuple[str, str], ...]:
    """(channel, author) of customer k: one handle, a second one on another channel for every third customer."""
    first = CHANNELS[k % len(CHANNELS)]
    if k % 3:
        return ((first, _author(first, f"c{k}")),)
    second = CHANNELS[(k + 1) % len(CHANNELS)]
    return (first, _author(first, f"c{k}")), (second, _author(second, f"cx{k}"))


def _prospect_followers(p: int) -> int:
    """A stable, skewed audience for prospect p (1 … 10^5 followers)."""
    return int(10 ** ((p * 2_654_435_761 % 1000) / 200))


def _author(channel: str, name: str) -> str:
    return f"{name}@mail.example.com" if channel == "email" else f"@{name}"


@lru_cache(maxsize=1 << 16)
def customer_record(shape: YearShape, k: int) -> tuple[str, str, float, int]:
    """(customer id, tier, lifetime value, followers) of customer k, stable for the shape's seed."""
    rng = random.Random(shape.seed * 1_000_003 + k)
    tier = rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
    base = {"standard": 400.0, "gold": 6000.0, "platinum": 25000.0}[tier]
    ltv = round(base * rng.lognormvariate(0, 0.6), 2)
    followers = int(rng.lognormvariate(5, 1.8))
    return f"C-{k:08d}", tier, ltv, followers


def customer_identities(shape: YearShape, first: int, count: int, updated_at: str) -> list[tuple[str, Identity]]:
    """The CRM's `customers.identities` messages (key, Identity) of customers first … first+count-1."""
    out = []
    for k in range(first, min(first + count, shape.customers)):
        cid, tier, ltv, followers = customer_record(shape, k)
        for channel, author in customer_handles(shape, k):
            key = author_key(channel, author)
            out.append((key, Identity(key=key, customer_id=cid, tier=tier, lifetime_value=ltv, followers=followers,
                                      name=f"Customer {k}", updated_at=updated_at)))
    return out


def _sentiment(rng: random.Random, label: str) -> Sentiment:
    if label == "negative":
        compound = -rng.uniform(0.05, 0.95)
    elif label == "positive":
        compound = rng.uniform(0.05, 0.97)
    else:
        compound = rng.uniform(-0.04, 0.04)
    strength = abs(compound) * 0.6
    pos = round(strength if compound > 0 else 0.0, 3)
    neg = round(strength if compound < 0 else 0.0, 3)
    return Sentiment(compound=round(compound, 4), pos=pos, neu=round(1.0 - pos - neg, 3), neg=neg, label=label)


def _alert_type(rng: random.Random, tier: str) -> tuple[str, str]:
    if tier == "platinum":
        return "vip_complaint", "critical"
    roll = rng.random()
    if roll < 0.1:
        return "cross_channel_complaint", "high"
    if roll < 0.35:
        return "repeat_complaint", "high"
    return "complaint", rng.choice(("low", "medium", "medium", "high"))


def generate_batch(shape: YearShape, b: int) -> Batch:
    """Batch `b` (0-based) of the year: rows `b * batch_size` … in time order across batches."""
    rng = random.Random(shape.seed * 7_919 + b * 104_729 + 1)
    first = b * shape.batch_size
    n = max(0, min(shape.batch_size, shape.mentions - first))
    # days start at midnight (the diurnal profile is in UTC hours); the first hours before `start` wrap to the
    # last day, which ends at `end`
    start, day_s = shape.start, 86_400
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    year = timedelta(days=shape.days)
    mentions: list[EnrichedMention] = []
    alerts: list[Alert] = []
    actions: list[AlertAction] = []
    verdicts: list[AlertAction] = []
    prospects: dict[str, str] = {}
    for i in range(first, first + n):
        day = i * shape.days // shape.mentions
        at = midnight + timedelta(seconds=day * day_s + rng.choices(_HOURS, cum_weights=_HOUR_CUM)[0] * 3600
                                  + rng.uniform(0, 3600))
        if at < start:
            at += year
        processed = at + timedelta(seconds=rng.uniform(0.2, 3.0))
        brand = rng.choices(BRANDS, cum_weights=_BRAND_CUM)[0]
        if rng.random() < shape.customer_share:
            k = _zipf_rank(rng, shape.customers)
            channel, author = rng.choice(customer_handles(shape, k))
            cid, tier, ltv, followers = customer_record(shape, k)
            is_prospect = False
        else:
            p = _zipf_rank(rng, shape.prospects)
            channel = rng.choices(CHANNELS, cum_weights=_CHANNEL_CUM)[0] if p % 7 else CHANNELS[p % len(CHANNELS)]
            author = _author(channel, f"p{p}")
            key = author_key(channel, author)
            cid, tier, ltv, followers = prospect_id(key), "prospect", 0.0, _prospect_followers(p)
            is_prospect = True
            prospects[key] = cid
        label = rng.choices(_LABEL_NAMES, cum_weights=_LABEL_CUM)[0]
        sentiment = _sentiment(rng, label)
        complaint = rng.random() < COMPLAINT_P[label]
        cues = [rng.choice(CUES)] if complaint else []
        score = round(rng.uniform(0.6, 1.0) if complaint else rng.uniform(0.0, 0.59), 4)
        infl = influence(followers)
        text = rng.choice(_TEXTS[label]).format(b="@" + brand)
        source_id = f"y{shape.seed}-{i}"
        m = EnrichedMention(
            mention_id=f"{channel}:{source_id}", id=source_id, channel=channel, author=author, text=text,
            created_at=to_iso(at), brand=brand, lang="en", author_followers=followers, sentiment=sentiment,
            customer_id=cid, is_prospect=is_prospect,
            customer=CustomerContext(tier=tier, lifetime_value=ltv, influence=infl),
            complaint=ComplaintInfo(is_complaint=complaint, score=score, cues=cues), processed_at=to_iso(processed))
        mentions.append(m)
        if complaint:
            alert = _alert(rng, m, at, tier, ltv, infl, is_prospect)
            alerts.append(alert)
            _act(rng, shape, alert, at, actions, verdicts)
    return Batch(b, mentions, alerts, actions, verdicts, sorted(prospects.items()))


def _alert(rng: random.Random, m: EnrichedMention, at: datetime, tier: str, ltv: float, infl: float,
           is_prospect: bool) -> Alert:
    kind, severity = _alert_type(rng, tier)
    prior = rng.randint(1, 5) if kind in ("repeat_complaint", "cross_channel_complaint") else 0
    return Alert(
        alert_id=f"{kind}:{m.mention_id}", type=kind, severity=severity, reasons=[f"{kind.replace('_', ' ')} detected"],
        mention_id=m.mention_id, customer_id=m.customer_id, brand=m.brand, channel=m.channel, text=m.text,
        sentiment=m.sentiment, prior_complaints=PriorComplaints(count=prior, window_days=30),
        channels_complained_on=[m.channel], created_at=to_iso(at + timedelta(seconds=1)), is_prospect=is_prospect,
        customer=None if is_prospect else CustomerContext(tier=tier, lifetime_value=ltv, influence=infl),
        complaint_score=m.complaint.score)


def _act(rng: random.Random, shape: YearShape, alert: Alert, at: datetime, actions: list[AlertAction],
         verdicts: list[AlertAction]) -> None:
    """Agents' actions on an alert: old alerts mostly resolved, recent ones partly acked; a few verdicts."""
    age = shape.end - at
    agent = f"agent{rng.randint(1, 12)}"
    acked = at + timedelta(minutes=rng.uniform(2, 240))
    common = dict(by=agent, mention_id=alert.mention_id, customer_id=alert.customer_id, brand=alert.brand,
                  channel=alert.channel)
    roll = rng.random()
    resolved = age > timedelta(days=3) and roll < 0.9
    if resolved or roll < 0.95 and age > timedelta(hours=6) or roll < 0.3:
        if acked < shape.end:
            actions.append(AlertAction(alert_id=alert.alert_id, action="ack", at=to_iso(acked), **common))
    if resolved:
        done = acked + timedelta(hours=rng.uniform(0.5, 48))
        if done < shape.end:
            actions.append(AlertAction(alert_id=alert.alert_id, action="resolve", at=to_iso(done), **common))
    if rng.random() < 0.02 and acked < shape.end:
        verdict = "not_complaint" if rng.random() < 0.2 else "complaint"
        verdicts.append(AlertAction(alert_id=alert.alert_id, action=verdict, at=to_iso(acked), **common))


def iter_batches(shape: YearShape, first: int = 0, last: Optional[int] = None) -> Iterator[Batch]:
    """Batches first … last-1 (default: all), one at a time."""
    for b in range(first, shape.batches if last is None else min(last, shape.batches)):
        yield generate_batch(shape, b)


def replay_copy(batch: Batch, delay: timedelta = timedelta(seconds=90)) -> list[EnrichedMention]:
    """The batch's mentions as a redelivery after a crash re-processes them: the same rows, processed later (the
    ReplacingMergeTree version), written as a new insert."""
    import msgspec

    from pipeline.adapters.clickhouse.columns import parse_ts

    return [msgspec.structs.replace(m, processed_at=to_iso(parse_ts(m.processed_at) + delay))
            for m in batch.mentions]


def year_end(now: Optional[datetime] = None) -> datetime:
    """Now (UTC) to the second: the year's last mentions are the dashboard's live minutes."""
    return (now or datetime.now(timezone.utc)).replace(microsecond=0)
