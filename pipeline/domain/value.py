"""Customer referral value (CRV) and advocacy: the reference of `v_customer_value` (schemas/clickhouse/
004_customer_value.sql; docs/customer_value.md explains the formula and its assumptions).

Kumar's CRV is the value of the customers that a customer's word of mouth brings in. We cannot see those referrals,
so we estimate them from what we can see: how many people each mention reached, how strongly it spoke, and what a
reached person is worth on average (a conversion rate × the average lifetime value). Negative word of mouth counts
`NEGATIVE_WEIGHT` times as much, so the referral value of a detractor is negative: a cost.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean
from typing import Iterable, Mapping, Optional

from pipeline.contract.records import EnrichedMention
from pipeline.domain.identity import engagement_of

#: Share of the people reached by a mention who become customers because of it (assumed: about 5 % of an
#: audience sees an organic post, about 1 % of those act on it). Also in 004_customer_value.sql.
REFERRAL_CONVERSION = 0.0005
#: How much more a negative mention persuades than a positive one of the same reach and strength (assumed, from
#: the word-of-mouth literature: bad experiences are retold more and weigh more). Also in 004_customer_value.sql.
NEGATIVE_WEIGHT = 2.0
#: Channels whose messages nobody else reads (an e-mail, a support ticket): they count as mentions and for their
#: sentiment, but reach no one, so they add nothing to reach, advocacy or referral value. Also in the SQL.
PRIVATE_CHANNELS = frozenset({"email", "support"})


@dataclass(frozen=True)
class MentionReach:
    """What the formula needs of one mention."""

    sentiment_label: str  # positive | negative | neutral
    sentiment_compound: float  # in [-1, 1]; its absolute value is the strength
    author_followers: int = 0
    engagement: int = 0  # likes + shares + retweets + comments + replies (identity.engagement_of)
    channel: str = "twitter"

    @classmethod
    def of(cls, m: EnrichedMention) -> "MentionReach":
        return cls(m.sentiment.label, m.sentiment.compound, m.author_followers or 0, engagement_of(m.metadata),
                   m.channel)

    def reach(self, customer_followers: int = 0) -> int:
        """People the mention reached: the larger follower count (the mention's, the customer's) + engagement;
        0 on a private channel."""
        if self.channel in PRIVATE_CHANNELS:
            return 0
        return max(self.author_followers, customer_followers) + self.engagement

    @property
    def strength(self) -> float:
        return abs(self.sentiment_compound)


@dataclass(frozen=True)
class CustomerValue:
    """One row of `v_customer_value` (the fields the formula defines)."""

    customer_id: str
    lifetime_value: float
    referral_value: float  # currency, like lifetime_value; negative for a detractor
    advocacy: int  # people reached by positive mentions − by negative ones
    mentions: int
    positive: int
    negative: int
    reach: int  # people reached by all the mentions


def value_per_reached(lifetime_values: Iterable[float]) -> float:
    """REFERRAL_CONVERSION × the average lifetime value of the customers that have one (> 0); 0 when none has."""
    positive = [v for v in lifetime_values if v > 0]
    return REFERRAL_CONVERSION * fmean(positive) if positive else 0.0


def customer_value(customer_id: str, lifetime_value: float, mentions: Iterable[MentionReach], *,
                   value_per_reached: float, customer_followers: int = 0) -> CustomerValue:
    """The value of one customer (or prospect: lifetime_value 0, customer_followers 0) from its mentions."""
    count = positive = negative = reach = advocacy = 0
    weighted = 0.0
    for m in mentions:
        r = m.reach(customer_followers)
        count += 1
        reach += r
        if m.sentiment_label == "positive":
            positive += 1
            advocacy += r
            weighted += r * m.strength
        elif m.sentiment_label == "negative":
            negative += 1
            advocacy -= r
            weighted -= NEGATIVE_WEIGHT * r * m.strength
    return CustomerValue(customer_id, lifetime_value, value_per_reached * weighted, advocacy, count, positive,
                         negative, reach)


def customer_values(customers: Mapping[str, tuple[float, int]], mentions: Iterable[tuple[str, MentionReach]],
                    links: Optional[Mapping[str, str]] = None) -> dict[str, CustomerValue]:
    """Every row of the view: `customers` maps id → (lifetime_value, followers); `mentions` are (author id,
    mention) pairs; `links` maps prospect id → customer id. Customers without mentions get zeros; authors that are
    not customers (prospects) get a row of their own with lifetime_value 0."""
    links = links or {}
    by_owner: dict[str, list[MentionReach]] = {cid: [] for cid in customers}
    for author, m in mentions:
        by_owner.setdefault(links.get(author, author), []).append(m)
    vpr = value_per_reached(ltv for ltv, _ in customers.values())
    out: dict[str, CustomerValue] = {}
    for owner, ms in by_owner.items():
        ltv, followers = customers.get(owner, (0.0, 0))
        out[owner] = customer_value(owner, ltv, ms, value_per_reached=vpr, customer_followers=followers)
    return out
