"""Complaint history, alert rules, severity and cooldown (pure).

The detect stage keeps one `CustomerHistory` per customer/prospect (a Faust table keyed by customer id); these
functions take the old state and a mention and return the new state and the alert to raise (spikes per brand:
`pipeline.domain.spikes`). Alert ids are derived from their cause, so replaying the same input never makes a second alert.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

import msgspec

from pipeline.contract.records import Alert, EnrichedMention, PriorComplaints
from pipeline.contract.severity import SEVERITIES, severity_rank

ALERT_TYPES = ("complaint", "repeat_complaint", "cross_channel_complaint", "vip_complaint", "spike")
#: Mention ids remembered per customer to drop duplicate deliveries (older ones fall out of the window anyway).
SEEN_IDS_MAX = 500
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class EscalationConfig:
    """Thresholds of the alert rules (see Settings for the documented defaults)."""

    window_days: int = 30
    repeat_min: int = 2
    cooldown_minutes: int = 60
    vip_tiers: frozenset[str] = frozenset({"platinum", "gold"})
    vip_lifetime_value: float = 10000.0
    vip_influence: float = 0.7


class ComplaintEvent(msgspec.Struct, array_like=True):
    mention_id: str
    ts: float
    channel: str


class CustomerHistory(msgspec.Struct):
    """Per-customer state: complaints in the window, recently seen mention ids, the last alert."""

    complaints: list[ComplaintEvent] = []
    seen: list[str] = []
    last_alert_ts: float = 0.0
    last_alert_rank: int = -1


def alert_id(kind: str, cause: str) -> str:
    """Deterministic id: `<kind>:` + 20 hex chars of BLAKE2b of the cause (e.g. a mention id or brand+hour)."""
    return f"{kind}:" + hashlib.blake2b(cause.encode(), digest_size=10).hexdigest()


def is_duplicate(history: CustomerHistory, mention_id: str) -> bool:
    """True when this mention was already processed for this customer (a redelivery)."""
    return mention_id in history.seen


def remember(history: CustomerHistory, mention_id: str) -> CustomerHistory:
    seen = history.seen[-(SEEN_IDS_MAX - 1):] + [mention_id]
    return msgspec.structs.replace(history, seen=seen)


def merge_histories(into: CustomerHistory, other: CustomerHistory) -> CustomerHistory:
    """A prospect's history folded into the customer it turned out to be (linking keeps the history)."""
    by_id = {c.mention_id: c for c in into.complaints}
    for c in other.complaints:
        by_id.setdefault(c.mention_id, c)
    complaints = sorted(by_id.values(), key=lambda c: c.ts)
    seen = list(dict.fromkeys(other.seen + into.seen))[-SEEN_IDS_MAX:]
    return CustomerHistory(complaints=complaints, seen=seen, last_alert_ts=max(into.last_alert_ts, other.last_alert_ts),
                           last_alert_rank=max(into.last_alert_rank, other.last_alert_rank))


@dataclass(frozen=True)
class Assessment:
    """What the rules concluded for one complaint."""

    types: tuple[str, ...]
    severity: str
    reasons: tuple[str, ...]
    prior: int
    channels: tuple[str, ...]


def assess(m: EnrichedMention, ts: float, prior: list[ComplaintEvent], cfg: EscalationConfig) -> Assessment:
    """Alert types, severity and plain-words reasons for a complaint, given the customer's earlier complaints
    (already restricted to the window)."""
    types = ["complaint"]
    reasons = [f"Complaint on {m.channel} (score {m.complaint.score:.2f}"
               + (f": {', '.join(m.complaint.cues[:4])})" if m.complaint.cues else ")")]
    other_channels = sorted({c.channel for c in prior if c.channel != m.channel})
    if len(prior) + 1 >= cfg.repeat_min and prior:
        types.append("repeat_complaint")
        reasons.append(f"{len(prior)} earlier complaint{'s' if len(prior) != 1 else ''} in the last {cfg.window_days} days")
    if other_channels:
        types.append("cross_channel_complaint")
        reasons.append(f"Complained before on {', '.join(other_channels)}")
    ctx = m.customer
    vip_why = []
    if not m.is_prospect and ctx.tier.lower() in cfg.vip_tiers:
        vip_why.append(f"{ctx.tier} tier")
    if ctx.lifetime_value >= cfg.vip_lifetime_value:
        vip_why.append(f"lifetime value {ctx.lifetime_value:,.0f}")
    if ctx.influence >= cfg.vip_influence:
        vip_why.append(f"influence {ctx.influence:.2f}")
    if vip_why:
        types.append("vip_complaint")
        reasons.append("VIP: " + ", ".join(vip_why))
    points = 0
    points += 1 if m.complaint.score >= 0.85 or m.sentiment.compound <= -0.6 else 0
    points += 1 if "repeat_complaint" in types else 0
    points += 1 if "cross_channel_complaint" in types else 0
    points += 2 if "vip_complaint" in types else 0
    points += 1 if len(prior) >= 3 else 0
    severity = SEVERITIES[min(3, (points + 1) // 2)]
    channels = tuple(sorted({c.channel for c in prior} | {m.channel}))
    return Assessment(tuple(types), severity, tuple(reasons), len(prior), channels)


def primary_type(types: tuple[str, ...]) -> str:
    """The alert's `type`: the most specific rule that fired."""
    for t in ("vip_complaint", "cross_channel_complaint", "repeat_complaint"):
        if t in types:
            return t
    return "complaint"


def observe(history: CustomerHistory, m: EnrichedMention, ts: float, now_iso: str,
            cfg: EscalationConfig) -> tuple[CustomerHistory, Optional[Alert]]:
    """Fold one (non-duplicate) mention into the history; return the new history and the alert, if any.

    Only complaints are recorded. The cooldown suppresses further alerts for the same customer for
    `cooldown_minutes` after one, unless the new one is more severe."""
    history = remember(history, m.mention_id)
    if not m.complaint.is_complaint:
        return history, None
    horizon = ts - cfg.window_days * DAY
    prior = [c for c in history.complaints if horizon <= c.ts and c.mention_id != m.mention_id]
    a = assess(m, ts, prior, cfg)
    complaints = prior + [ComplaintEvent(m.mention_id, ts, m.channel)]
    complaints.sort(key=lambda c: c.ts)
    rank = severity_rank(a.severity)
    cooling = ts - history.last_alert_ts < cfg.cooldown_minutes * 60 and rank <= history.last_alert_rank
    if cooling:
        return msgspec.structs.replace(history, complaints=complaints), None
    new_history = msgspec.structs.replace(history, complaints=complaints, last_alert_ts=ts, last_alert_rank=rank)
    kind = primary_type(a.types)
    alert = Alert(alert_id=alert_id("complaint", m.mention_id), type=kind, severity=a.severity, reasons=list(a.reasons),
                  mention_id=m.mention_id, customer_id=m.customer_id, brand=m.brand, channel=m.channel, text=m.text,
                  sentiment=m.sentiment, prior_complaints=PriorComplaints(count=a.prior, window_days=cfg.window_days),
                  channels_complained_on=list(a.channels), created_at=now_iso, is_prospect=m.is_prospect,
                  customer=m.customer, complaint_score=m.complaint.score)
    return new_history, alert
