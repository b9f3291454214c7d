"""pipeline/domain/value.py: the customer referral value and advocacy formula (reference of v_customer_value)."""
from __future__ import annotations

import pytest

from pipeline.contract.records import ComplaintInfo, CustomerContext, EnrichedMention
from pipeline.domain.sentiment import Sentiment, label_for
from pipeline.domain.value import (NEGATIVE_WEIGHT, REFERRAL_CONVERSION, CustomerValue, MentionReach, customer_value,
                                   customer_values, value_per_reached)


def pos(compound: float = 0.5, followers: int = 0, engagement: int = 0) -> MentionReach:
    return MentionReach("positive", compound, followers, engagement)


def neg(compound: float = -0.5, followers: int = 0, engagement: int = 0) -> MentionReach:
    return MentionReach("negative", compound, followers, engagement)


def test_reach_is_the_larger_follower_count_plus_engagement():
    m = pos(followers=300, engagement=40)
    assert m.reach() == 340
    assert m.reach(customer_followers=1000) == 1040
    assert m.reach(customer_followers=10) == 340
    assert neg(-0.75).strength == 0.75 and pos(0.25).strength == 0.25


def test_value_per_reached_averages_the_customers_with_a_lifetime_value():
    assert value_per_reached([1000.0, 3000.0, 0.0]) == pytest.approx(REFERRAL_CONVERSION * 2000)
    assert value_per_reached([0.0]) == 0.0 and value_per_reached([]) == 0.0


def test_worked_example_of_docs_customer_value_md():
    # docs/customer_value.md: average CLV 10,000 → 5 per person reached; one positive post to 2,000 followers
    # with 200 likes (strength 0.8) and one complaint to the same followers with no engagement (strength 0.5).
    vpr = value_per_reached([10_000.0])
    assert vpr == pytest.approx(5.0)
    v = customer_value("C-1", 10_000.0, [pos(0.8, followers=2000, engagement=200), neg(-0.5, followers=2000)],
                       value_per_reached=vpr)
    assert v == CustomerValue("C-1", 10_000.0, pytest.approx(5.0 * (2200 * 0.8 - NEGATIVE_WEIGHT * 2000 * 0.5)),
                              advocacy=200, mentions=2, positive=1, negative=1, reach=4200)
    assert v.referral_value == pytest.approx(-1200.0)


def test_neutral_mentions_count_in_reach_but_not_in_advocacy_or_value():
    v = customer_value("C-1", 0.0, [MentionReach("neutral", 0.02, 500, 5)], value_per_reached=1.0)
    assert (v.mentions, v.positive, v.negative, v.reach, v.advocacy, v.referral_value) == (1, 0, 0, 505, 0, 0.0)


def test_a_detractor_costs_more_than_an_advocate_of_the_same_reach_brings():
    advocate = customer_value("A", 0.0, [pos(0.5, 1000)], value_per_reached=1.0)
    detractor = customer_value("D", 0.0, [neg(-0.5, 1000)], value_per_reached=1.0)
    assert advocate.advocacy == -detractor.advocacy == 1000
    assert detractor.referral_value == pytest.approx(-NEGATIVE_WEIGHT * advocate.referral_value)
    assert customer_value("N", 0.0, [], value_per_reached=1.0) == CustomerValue("N", 0.0, 0.0, 0, 0, 0, 0, 0)


def test_customer_values_fold_prospect_mentions_into_the_linked_customer():
    customers = {"C-1": (4000.0, 1000), "C-2": (0.0, 0), "C-3": (2000.0, 0)}
    mentions = [("C-1", pos(0.5, 10)), ("P-a", neg(-0.25, 3000)), ("P-b", pos(1.0, 200, 1))]
    rows = customer_values(customers, mentions, links={"P-a": "C-1"})
    assert set(rows) == {"C-1", "C-2", "C-3", "P-b"}
    vpr = REFERRAL_CONVERSION * 3000  # C-2 has no lifetime value: not in the average
    assert rows["C-1"] == CustomerValue("C-1", 4000.0, pytest.approx(vpr * (1000 * 0.5 - 2 * 3000 * 0.25)),
                                        advocacy=1000 - 3000, mentions=2, positive=1, negative=1, reach=4000)
    assert rows["P-b"] == CustomerValue("P-b", 0.0, pytest.approx(vpr * 201), 201, 1, 1, 0, 201)
    assert rows["C-2"] == CustomerValue("C-2", 0.0, 0.0, 0, 0, 0, 0, 0)


def test_mention_reach_of_an_enriched_mention_uses_engagement_of():
    compound = -0.75
    m = EnrichedMention(
        mention_id="twitter:1", id="1", channel="twitter", author="bob", text="x", created_at="2026-11-15T10:00:00Z",
        sentiment=Sentiment(compound, 0.0, 0.25, 0.75, label_for(compound)), customer_id="C-1", is_prospect=False,
        customer=CustomerContext(tier="gold", lifetime_value=1.0, influence=0.5),
        complaint=ComplaintInfo(is_complaint=False, score=0.0, cues=[]), processed_at="2026-11-15T10:00:01Z",
        author_followers=700, metadata={"likes": 3, "shares": 2.9, "retweets": True, "comments": "4", "replies": -1})
    assert MentionReach.of(m) == MentionReach("negative", -0.75, 700, 5)
