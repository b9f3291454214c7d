"""Ops feedback on the complaint model (pure): the verdicts people give on alerts and mentions, the id that stores
one verdict once, the training label of a verdict, and measured alert precision with its uncertainty.

A verdict travels on `alerts.actions` as an `AlertAction` whose `action` is the verdict (docs/operations.md,
"Complaint feedback"); the sink writes it to ClickHouse `complaint_feedback`.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Final, Optional

from pipeline.domain.escalation import ALERT_TYPES

#: Verdicts on an alert: it was not a complaint (a false alarm), or it was one (confirmed).
ALERT_VERDICTS: Final = ("not_complaint", "complaint")
#: Verdicts on a mention the model did not flag: it was a complaint all the same.
MENTION_VERDICTS: Final = ("missed_complaint",)
VERDICTS: Final = ALERT_VERDICTS + MENTION_VERDICTS
#: The alert types that are complaint predictions (a spike is about volume, not about one mention).
COMPLAINT_ALERT_TYPES: Final = tuple(t for t in ALERT_TYPES if t != "spike")
#: Below this many reviewed alerts a brand's precision is flagged as noisy.
MIN_REVIEWS: Final = 20
#: How many days of alerts the dashboard's precision covers by default.
PRECISION_DAYS: Final = 7


def feedback_id(alert_id: str, mention_id: str, verdict: str, by: str) -> str:
    """The row key of a verdict: one row per (alert, mention, verdict, person), so an action delivered twice or
    clicked twice is stored once, while a changed mind (another verdict) or a second reviewer is a row of its own."""
    raw = "\x1f".join((alert_id, mention_id, verdict, by)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def verdict_label(verdict: str) -> int:
    """The training label of a verdict: 0 for not_complaint, 1 for complaint / missed_complaint."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}: one of {', '.join(VERDICTS)}")
    return 0 if verdict == "not_complaint" else 1


@dataclass(frozen=True)
class Precision:
    """Measured precision of one brand's complaint alerts: of the `reviewed` alerts (those with a verdict), how many
    were not complaints. `precision` is None without reviews; `low`/`high` is its 95 % Wilson interval; `noisy`
    when fewer than MIN_REVIEWS alerts were reviewed."""

    brand: str
    alerts: int
    reviewed: int
    not_complaint: int
    precision: Optional[float]
    low: Optional[float]
    high: Optional[float]
    noisy: bool

    @property
    def confirmed(self) -> int:
        return self.reviewed - self.not_complaint


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[Optional[float], Optional[float]]:
    """The Wilson score interval of a proportion (95 % by default); (None, None) for n = 0."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def precision_of(brand: str, alerts: int, reviewed: int, not_complaint: int,
                 min_reviews: int = MIN_REVIEWS) -> Precision:
    """precision = 1 − not_complaint / reviewed, with its interval (counts are clamped to be consistent)."""
    reviewed = max(0, reviewed)
    not_complaint = min(max(0, not_complaint), reviewed)
    confirmed = reviewed - not_complaint
    low, high = wilson_interval(confirmed, reviewed)
    value = confirmed / reviewed if reviewed else None
    return Precision(brand=brand, alerts=max(alerts, reviewed), reviewed=reviewed, not_complaint=not_complaint,
                     precision=value, low=low, high=high, noisy=reviewed < min_reviews)
