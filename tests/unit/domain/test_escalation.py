"""pipeline/domain/escalation.py: complaint history, alert rules, severity, cooldown, duplicates (spikes: test_spikes.py)."""
from __future__ import annotations

import hashlib
import re

import pytest

from pipeline.domain.escalation import (DAY, HOUR, ComplaintEvent, CustomerHistory, EscalationConfig, alert_id,
                                 is_duplicate, merge_histories, observe, remember)
from pipeline.contract.records import ComplaintInfo, CustomerContext, EnrichedMention, PriorComplaints
from pipeline.domain.sentiment import Sentiment

CFG = EscalationConfig()
NOW = "2024-05-01T12:00:00.000Z"
T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z


def em(source_id: str, channel: str = "twitter", *, complaint: bool = True, score: float = 0.7,
       compound: float = -0.3, tier: str = "standard", ltv: float = 0.0, infl: float = 0.1,
       prospect: bool = False, customer_id: str = "C1", brand: str = "acme") -> EnrichedMention:
    label = "negative" if compound <= -0.05 else ("positive" if compound >= 0.05 else "neutral")
    return EnrichedMention(
        mention_id=f"{channel}:{source_id}", id=source_id, channel=channel, author="bob", text=f"text {source_id}",
        created_at=NOW, sentiment=Sentiment(compound=compound, pos=0.0, neu=0.7, neg=0.3, label=label),
        customer_id=customer_id, is_prospect=prospect,
        customer=CustomerContext(tier=tier, lifetime_value=ltv, influence=infl),
        complaint=ComplaintInfo(is_complaint=complaint, score=score if complaint else 0.1,
                                cues=["late", "refund"] if complaint else []),
        processed_at=NOW, brand=brand)


# --- ids ----------------------------------------------------------------------------------------------------------

def test_alert_id_format():
    aid = alert_id("complaint", "twitter:1")
    assert aid == "complaint:" + hashlib.blake2b(b"twitter:1", digest_size=10).hexdigest()
    assert re.fullmatch(r"complaint:[0-9a-f]{20}", aid)
    assert alert_id("complaint", "twitter:2") != aid
    assert alert_id("spike", "twitter:1") != aid


# --- first complaint ----------------------------------------------------------------------------------------------

def test_first_complaint_alert():
    history, alert = observe(CustomerHistory(), em("1"), T0, NOW, CFG)
    assert alert is not None
    assert alert.type == "complaint"
    assert alert.severity == "low"
    assert alert.alert_id == alert_id("complaint", "twitter:1")
    assert alert.mention_id == "twitter:1"
    assert alert.customer_id == "C1"
    assert alert.brand == "acme"
    assert alert.channel == "twitter"
    assert alert.text == "text 1"
    assert alert.created_at == NOW
    assert alert.prior_complaints.count == 0
    assert alert.prior_complaints.window_days == 30
    assert alert.channels_complained_on == ["twitter"]
    assert alert.reasons == ["Complaint on twitter (score 0.70: late, refund)"]
    assert alert.complaint_score == 0.7
    assert history.complaints == [ComplaintEvent("twitter:1", T0, "twitter")]
    assert history.seen == ["twitter:1"]
    assert history.last_alert_ts == T0
    assert history.last_alert_rank == 0


def test_alert_id_deterministic_for_same_input():
    _, a = observe(CustomerHistory(), em("1"), T0, NOW, CFG)
    _, b = observe(CustomerHistory(), em("1"), T0 + 500, "2030-01-01T00:00:00.000Z", CFG)
    assert a.alert_id == b.alert_id
    _, c = observe(CustomerHistory(), em("2"), T0, NOW, CFG)
    assert c.alert_id != a.alert_id


def test_high_score_makes_medium():
    _, alert = observe(CustomerHistory(), em("1", score=0.9), T0, NOW, CFG)
    assert alert.severity == "medium"
    _, alert = observe(CustomerHistory(), em("1", compound=-0.7), T0, NOW, CFG)
    assert alert.severity == "medium"


# --- repeat / cross-channel ---------------------------------------------------------------------------------------

def test_second_complaint_other_channel_is_cross_channel():
    h, _ = observe(CustomerHistory(), em("1", "twitter"), T0, NOW, CFG)
    h, alert = observe(h, em("2", "facebook"), T0 + 2 * HOUR, NOW, CFG)
    assert alert.type == "cross_channel_complaint"
    assert alert.severity == "medium"
    assert alert.channels_complained_on == ["facebook", "twitter"]
    assert alert.prior_complaints.count == 1
    assert alert.reasons == ["Complaint on facebook (score 0.70: late, refund)",
                             "1 earlier complaint in the last 30 days",
                             "Complained before on twitter"]
    assert [c.mention_id for c in h.complaints] == ["twitter:1", "facebook:2"]


def test_second_complaint_same_channel_is_repeat():
    h, _ = observe(CustomerHistory(), em("1"), T0, NOW, CFG)
    h, alert = observe(h, em("2"), T0 + 2 * HOUR, NOW, CFG)
    assert alert.type == "repeat_complaint"
    assert alert.channels_complained_on == ["twitter"]
    assert alert.prior_complaints.count == 1


def test_complaints_older_than_window_are_forgotten():
    h, _ = observe(CustomerHistory(), em("1", "twitter"), T0, NOW, CFG)
    h, alert = observe(h, em("2", "facebook"), T0 + 31 * DAY, NOW, CFG)
    assert alert.type == "complaint"
    assert alert.prior_complaints.count == 0
    assert alert.channels_complained_on == ["facebook"]
    assert h.complaints == [ComplaintEvent("facebook:2", T0 + 31 * DAY, "facebook")]


def test_complaint_just_inside_window_is_kept():
    h, _ = observe(CustomerHistory(), em("1", "twitter"), T0, NOW, CFG)
    h, alert = observe(h, em("2", "facebook"), T0 + 30 * DAY, NOW, CFG)
    assert alert.prior_complaints.count == 1
    assert alert.type == "cross_channel_complaint"


def test_window_days_configurable():
    cfg = EscalationConfig(window_days=7)
    h, _ = observe(CustomerHistory(), em("1"), T0, NOW, cfg)
    h, alert = observe(h, em("2"), T0 + 8 * DAY, NOW, cfg)
    assert alert.prior_complaints == PriorComplaints(count=0, window_days=7)


# --- cooldown -----------------------------------------------------------------------------------------------------

def test_cooldown_suppresses_same_severity():
    h, first = observe(CustomerHistory(), em("1", score=0.9), T0, NOW, CFG)
    assert first.severity == "medium"
    # repeat on the same channel: medium again, within 60 minutes → no alert, but the complaint is recorded
    h, second = observe(h, em("2", score=0.7), T0 + 10 * 60, NOW, CFG)
    assert second is None
    assert [c.mention_id for c in h.complaints] == ["twitter:1", "twitter:2"]
    assert h.last_alert_ts == T0
    assert h.seen == ["twitter:1", "twitter:2"]


def test_cooldown_lets_more_severe_through():
    h, first = observe(CustomerHistory(), em("1", score=0.9), T0, NOW, CFG)
    h, second = observe(h, em("2", score=0.7), T0 + 10 * 60, NOW, CFG)
    assert second is None
    # high score + repeat + cross-channel → 3 points → high
    h, third = observe(h, em("3", "facebook", score=0.9), T0 + 20 * 60, NOW, CFG)
    assert third is not None
    assert third.severity == "high"
    assert third.type == "cross_channel_complaint"
    assert third.prior_complaints.count == 2
    assert h.last_alert_ts == T0 + 20 * 60
    assert h.last_alert_rank == 2


def test_cooldown_expires():
    h, _ = observe(CustomerHistory(), em("1", score=0.9), T0, NOW, CFG)
    h, alert = observe(h, em("2", score=0.7), T0 + 61 * 60, NOW, CFG)
    assert alert is not None
    assert alert.severity == "medium"
    assert alert.type == "repeat_complaint"


def test_cooldown_minutes_configurable():
    cfg = EscalationConfig(cooldown_minutes=5)
    h, _ = observe(CustomerHistory(), em("1", score=0.9), T0, NOW, cfg)
    h, alert = observe(h, em("2", score=0.7), T0 + 6 * 60, NOW, cfg)
    assert alert is not None


# --- VIP ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,reason", [
    (dict(tier="gold"), "VIP: gold tier"),
    (dict(tier="Platinum"), "VIP: Platinum tier"),
    (dict(ltv=10_000.0), "VIP: lifetime value 10,000"),
    (dict(ltv=25_000.5), "VIP: lifetime value 25,000"),
    (dict(infl=0.7), "VIP: influence 0.70"),
    (dict(infl=0.95), "VIP: influence 0.95"),
])
def test_vip_complaint(kwargs, reason):
    _, alert = observe(CustomerHistory(), em("1", **kwargs), T0, NOW, CFG)
    assert alert.type == "vip_complaint"
    assert alert.severity == "medium"  # 2 points
    assert alert.reasons[-1] == reason


@pytest.mark.parametrize("kwargs", [
    dict(tier="standard"), dict(ltv=9_999.99), dict(infl=0.69), dict(tier="gold", prospect=True),
])
def test_not_vip(kwargs):
    _, alert = observe(CustomerHistory(), em("1", **kwargs), T0, NOW, CFG)
    assert alert.type == "complaint"


def test_vip_with_everything_is_critical():
    h, _ = observe(CustomerHistory(), em("1", "twitter", tier="gold"), T0 - 3 * DAY, NOW, CFG)
    h, _ = observe(h, em("2", "twitter", tier="gold"), T0 - 2 * DAY, NOW, CFG)
    h, _ = observe(h, em("3", "twitter", tier="gold"), T0 - 1 * DAY, NOW, CFG)
    h, alert = observe(h, em("4", "facebook", tier="gold", score=0.95), T0, NOW, CFG)
    # score 1 + repeat 1 + cross 1 + vip 2 + ≥3 prior 1 = 6 points → critical
    assert alert.type == "vip_complaint"
    assert alert.severity == "critical"
    assert alert.prior_complaints.count == 3
    assert alert.reasons[-1] == "VIP: gold tier"


def test_vip_tiers_configurable():
    cfg = EscalationConfig(vip_tiers=frozenset({"silver"}))
    _, alert = observe(CustomerHistory(), em("1", tier="Silver"), T0, NOW, cfg)
    assert alert.type == "vip_complaint"
    _, alert = observe(CustomerHistory(), em("1", tier="gold"), T0, NOW, cfg)
    assert alert.type == "complaint"


# --- non-complaints and duplicates ----------------------------------------------------------------------------------

def test_non_complaint_no_alert_only_seen_changes():
    h, _ = observe(CustomerHistory(), em("1"), T0, NOW, CFG)
    h2, alert = observe(h, em("2", complaint=False, compound=0.6), T0 + 60, NOW, CFG)
    assert alert is None
    assert h2.complaints == h.complaints
    assert h2.last_alert_ts == h.last_alert_ts
    assert h2.last_alert_rank == h.last_alert_rank
    assert h2.seen == ["twitter:1", "twitter:2"]


def test_non_complaint_on_empty_history():
    h, alert = observe(CustomerHistory(), em("9", complaint=False), T0, NOW, CFG)
    assert alert is None
    assert h == CustomerHistory(complaints=[], seen=["twitter:9"], last_alert_ts=0.0, last_alert_rank=-1)


def test_is_duplicate_after_remember():
    h = CustomerHistory()
    assert not is_duplicate(h, "twitter:1")
    h = remember(h, "twitter:1")
    assert is_duplicate(h, "twitter:1")
    assert not is_duplicate(h, "twitter:2")
    h2, _ = observe(CustomerHistory(), em("5"), T0, NOW, CFG)
    assert is_duplicate(h2, "twitter:5")


def test_remember_is_bounded():
    from pipeline.domain.escalation import SEEN_IDS_MAX

    h = CustomerHistory()
    for i in range(SEEN_IDS_MAX + 10):
        h = remember(h, f"m{i}")
    assert len(h.seen) == SEEN_IDS_MAX
    assert h.seen[-1] == f"m{SEEN_IDS_MAX + 9}"
    assert not is_duplicate(h, "m0")


def test_replayed_complaint_does_not_count_itself():
    h, _ = observe(CustomerHistory(), em("1"), T0, NOW, CFG)
    h2, alert = observe(h, em("1"), T0, NOW, CFG)
    assert [c.mention_id for c in h2.complaints] == ["twitter:1"]
    # within the cooldown with the same severity: no second alert
    assert alert is None


# --- merge ----------------------------------------------------------------------------------------------------------

def test_merge_histories():
    a = CustomerHistory(complaints=[ComplaintEvent("twitter:1", 10.0, "twitter"),
                                    ComplaintEvent("twitter:3", 30.0, "twitter")],
                        seen=["twitter:1", "twitter:3"], last_alert_ts=30.0, last_alert_rank=1)
    b = CustomerHistory(complaints=[ComplaintEvent("facebook:2", 20.0, "facebook"),
                                    ComplaintEvent("twitter:3", 30.0, "twitter")],
                        seen=["facebook:2", "twitter:3", "facebook:x"], last_alert_ts=20.0, last_alert_rank=2)
    merged = merge_histories(a, b)
    assert [c.mention_id for c in merged.complaints] == ["twitter:1", "facebook:2", "twitter:3"]
    assert sorted(merged.seen) == sorted({"twitter:1", "twitter:3", "facebook:2", "facebook:x"})
    assert len(merged.seen) == 4
    assert merged.last_alert_ts == 30.0
    assert merged.last_alert_rank == 2


def test_merged_history_feeds_cross_channel():
    prospect, _ = observe(CustomerHistory(), em("1", "instagram", customer_id="P-x", prospect=True), T0, NOW, CFG)
    customer, _ = observe(CustomerHistory(), em("2", "twitter"), T0 + HOUR, NOW, CFG)
    merged = merge_histories(customer, prospect)
    _, alert = observe(merged, em("3", "facebook"), T0 + 3 * HOUR, NOW, CFG)
    assert alert.prior_complaints.count == 2
    assert alert.channels_complained_on == ["facebook", "instagram", "twitter"]
