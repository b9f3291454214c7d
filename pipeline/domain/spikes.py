"""Negative-mention spikes per brand and event-time hour (pure).

One `SpikeState` per brand (the spike stage's table, keyed by brand) holds, per event-time hour, the count of the
negative mentions counted and the hour's most negative mentions. A redelivered or replayed mention is not counted
twice, at a cost that does not grow with the volume: every negative mention carries its *source*, the position
(partition, offset, index in the packed message) of the detect stage's input record it came from, and the state
keeps the highest source counted per detect partition. The detect stage drops a mention it has seen before (per
customer), so a source is the mention's identity on this hop; redeliveries (a crash or a rebalance of either
stage) repeat sources at or below the high-water mark, in order, and are skipped. (The first version kept every
mention id of the 25 hours the baseline needs: at 300 negatives/s for one brand that is ~27M ids, re-encoded into
the changelog on every batch; the soak run found the stage falling behind.)
The stage's watermark (`pipeline.runtime.watermarks`) decides what is final:

- hour h is *closed* once the watermark minus `allowed_lateness` has passed its end; a mention of a closed hour
  arrives too late and is not counted (it still lands in ClickHouse; `late` counts them);
- hour h is *evaluated* once every hour before it is closed: its baseline — the `spike_baseline_hours` hours
  before it, hours without negatives counting 0 — is then final, and h needs a full baseline (the brand was counted
  since at least that long before h). h alerts when its count reaches `spike_min_count` and exceeds the
  baseline's mean + k·σ. Counts only grow, so an hour alerts early (as soon as its count crosses the threshold)
  and exactly when its final count would: the same alerts whatever order the partitions deliver in.
- an hour alerts once, ever (`alerted`); hours older than any evaluation still needs are dropped.

Functions update the state in place (the caller owns it for one batch)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional

import msgspec

from pipeline.contract.records import Alert, AlertMention, PriorComplaints
from pipeline.domain.escalation import alert_id
from pipeline.domain.sentiment import Sentiment

HOUR = 3600.0
TOP_N = 5
TEXT_CAP = 280
NO_HOUR = -(1 << 62)


class TopMention(msgspec.Struct, array_like=True):
    """One of an hour's most negative mentions (ordered by compound, then mention id)."""

    compound: float
    mention_id: str
    text: str
    channel: str
    customer_id: str
    sentiment: Sentiment


class HourCounts(msgspec.Struct, array_like=True):
    n: int = 0                     # negative mentions counted
    top: list[TopMention] = []     # most negative first, at most TOP_N


#: Where a negative mention came from: (detect partition, offset, index in the packed message).
Source = tuple[int, int, int]


class SpikeState(msgspec.Struct):
    """Per brand (field names differ from earlier states' `hours`/`counts`: an upgraded state starts afresh)."""

    tally: dict[int, HourCounts] = {}
    sources: dict[int, tuple[int, int]] = {}  # detect partition → highest (offset, index) counted
    alerted: list[int] = []
    first: int = NO_HOUR        # earliest hour counted
    watermark: float = 0.0      # highest watermark applied (0: none yet)
    judged: int = NO_HOUR       # hours up to this one are closed and were judged on their final counts
    late: int = 0               # mentions not counted because their hour had closed


@dataclass(frozen=True)
class SpikeConfig:
    baseline_hours: int = 24
    sigma: float = 3.0
    min_count: int = 20
    allowed_lateness: float = 300.0


@dataclass(frozen=True)
class Spike:
    brand: str
    hour: int
    count: int
    threshold: float
    baseline_mean: float
    top: tuple[TopMention, ...] = field(default=())
    final: bool = True  # False: raised while the hour was still open (its count can still grow)


def closed_before(state: SpikeState, cfg: SpikeConfig) -> int:
    """Hours below this one are closed."""
    if state.watermark <= 0:
        return NO_HOUR
    return int((state.watermark - cfg.allowed_lateness) // HOUR)


def spike_threshold(baseline: list[int], sigma: float) -> float:
    """mean + k·σ of the baseline hourly counts (population σ)."""
    if not baseline:
        return math.inf
    mean = sum(baseline) / len(baseline)
    var = sum((x - mean) ** 2 for x in baseline) / len(baseline)
    return mean + sigma * math.sqrt(var)


def count_negative(state: SpikeState, ts: float, top: TopMention, cfg: SpikeConfig,
                   source: Optional[Source] = None) -> str:
    """Count one negative mention at event time `ts`: "counted", "duplicate" or "late". `source` is where it came
    from (see the module docstring); a source at or below its partition's high-water mark was counted before. A
    mention without one (from a worker older than sources) is counted as it comes."""
    if source is not None:
        partition, position = source[0], (source[1], source[2])
        done = state.sources.get(partition)
        if done is not None and position <= tuple(done):
            return "duplicate"
        state.sources[partition] = position
    hour = int(ts // HOUR)
    if hour < closed_before(state, cfg):
        state.late += 1
        return "late"
    agg = state.tally.get(hour)
    if agg is None:
        agg = state.tally[hour] = HourCounts(n=0, top=[])
    agg.n += 1
    if len(agg.top) < TOP_N or (top.compound, top.mention_id) < (agg.top[-1].compound, agg.top[-1].mention_id):
        agg.top.append(top)
        agg.top.sort(key=lambda t: (t.compound, t.mention_id))
        del agg.top[TOP_N:]
    if state.first == NO_HOUR or hour < state.first:
        state.first = hour
    return "counted"


def advance(state: SpikeState, watermark: Optional[float]) -> bool:
    """Apply the stage's watermark (never backwards); True if it moved. `evaluate` next."""
    if watermark is None or watermark <= state.watermark:
        return False
    state.watermark = watermark
    return True


def evaluate(state: SpikeState, brand: str, cfg: SpikeConfig) -> list[Spike]:
    """Spikes of the hours that can be evaluated now and have not alerted yet (marked alerted); then hours no
    later evaluation needs are dropped (so a watermark that jumps ahead still has every hour judged first)."""
    last = closed_before(state, cfg)
    if last == NO_HOUR:
        return []
    spikes = []
    for hour in sorted(state.tally):
        if hour <= state.judged:
            continue  # judged once on its final count; its baseline may be gone by now
        if hour > last:
            break
        agg = state.tally[hour]
        count = agg.n
        if hour in state.alerted or count < cfg.min_count or state.first > hour - cfg.baseline_hours:
            continue
        baseline = [state.tally[h].n if h in state.tally else 0 for h in range(hour - cfg.baseline_hours, hour)]
        threshold = spike_threshold(baseline, cfg.sigma)
        if count <= threshold:
            continue
        state.alerted.append(hour)
        spikes.append(Spike(brand, hour, count, threshold, sum(baseline) / len(baseline), tuple(agg.top),
                            final=hour < last))
    state.judged = max(state.judged, last - 1)  # every hour before `last` is closed: final, judged above
    horizon = last - cfg.baseline_hours  # the oldest hour the baseline of the next hour to judge still needs
    for hour in [h for h in state.tally if h < horizon]:
        del state.tally[hour]
    state.alerted = [h for h in state.alerted if h >= horizon]
    return spikes


def hour_iso(hour: int) -> str:
    return datetime.fromtimestamp(hour * HOUR, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def spike_alert_id(brand: str, hour: int) -> str:
    return alert_id("spike", f"{brand}:{hour}")


def spike_alert(spike: Spike, now_iso: str, cfg: SpikeConfig, window_days: int) -> Alert:
    """The `spike` alert of a brand-hour: one per brand and hour (its id is derived from them), carrying the hour's
    most negative mentions; `mention_id`, `text` and `channel` are the most negative one's."""
    ratio = spike.count / spike.baseline_mean if spike.baseline_mean > 0 else math.inf
    severity = "critical" if ratio >= 10 else "high"
    start = datetime.fromtimestamp(spike.hour * HOUR, tz=timezone.utc)
    reasons = [f"{spike.count} negative mentions {'' if spike.final else 'so far '}of {spike.brand} on "
               f"{start:%Y-%m-%d} {start:%H}:00–{(start.hour + 1) % 24:02d}:00 UTC vs {spike.baseline_mean:.1f}/h "
               f"over the previous {cfg.baseline_hours} h (threshold {spike.threshold:.1f})"]
    worst = spike.top[0] if spike.top else None
    return Alert(
        alert_id=spike_alert_id(spike.brand, spike.hour), type="spike", severity=severity, reasons=reasons,
        mention_id=worst.mention_id if worst else "", customer_id=worst.customer_id if worst else "",
        brand=spike.brand, channel=worst.channel if worst else "", text=worst.text if worst else "",
        sentiment=worst.sentiment if worst else Sentiment(compound=0.0, pos=0.0, neu=0.0, neg=0.0, label="negative"),
        prior_complaints=PriorComplaints(count=0, window_days=window_days), channels_complained_on=[],
        created_at=now_iso, window_start=hour_iso(spike.hour), count=spike.count,
        baseline_mean=round(spike.baseline_mean, 3), threshold=round(spike.threshold, 3),
        top_mentions=[AlertMention(mention_id=t.mention_id, text=t.text, sentiment_compound=t.compound,
                                   channel=t.channel, customer_id=t.customer_id) for t in spike.top])


def top_mention(mention_id: str, text: str, channel: str, customer_id: str, sentiment: Sentiment) -> TopMention:
    return TopMention(sentiment.compound, mention_id, text[:TEXT_CAP], channel, customer_id, sentiment)
