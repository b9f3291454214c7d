"""Prior correction of the complaint score (pipeline.domain.complaints.prior) and its use in the first stage."""
from __future__ import annotations

import math
import random

import pytest

from pipeline.domain.complaints.model import load_default
from pipeline.domain.complaints.prior import (
    ANY_CHANNEL, PriorTracker, adjust, estimate_histogram, estimate_prior, parse_priors, prior_shift, shifts_for,
)
from pipeline.domain.enrich import MentionProcessor, RawMessage
from pipeline.domain.sentiment import score_sentiment


def test_no_shift_when_the_priors_agree() -> None:
    assert prior_shift(0.3, 0.3) == 0.0
    assert adjust(0.42, 0.0) == pytest.approx(0.42)


def test_shift_is_bayes_rule() -> None:
    # p = 0.5 at a training prior of 0.5 → at a deployment prior of 0.2 the posterior is 0.2
    assert adjust(0.5, prior_shift(0.2, 0.5)) == pytest.approx(0.2)
    # and back again
    s = prior_shift(0.1, 0.6)
    assert adjust(adjust(0.7, s), -s) == pytest.approx(0.7)
    assert s == pytest.approx(math.log(0.1 / 0.9) - math.log(0.6 / 0.4))


def _calibrated_scores(n: int, prior: float, seed: int) -> list[float]:
    """Scores of a classifier calibrated at training prior 0.5 on a stream whose true complaint share is `prior`:
    x ~ N(+0.75, 1) for a complaint, N(-0.75, 1) otherwise; the exact log-likelihood ratio of x is 1.5·x, and the
    calibrated score at prior 0.5 is its logistic."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        positive = rng.random() < prior
        x = rng.gauss(0.75 if positive else -0.75, 1.0)
        out.append(1 / (1 + math.exp(-1.5 * x)))  # posterior at prior 0.5
    return out


@pytest.mark.parametrize("true_prior", [0.1, 0.3, 0.6])
def test_em_recovers_the_stream_prior(true_prior: float) -> None:
    scores = _calibrated_scores(20_000, true_prior, 1)
    assert estimate_prior(scores, 0.5) == pytest.approx(true_prior, abs=0.02)


def test_histogram_em_agrees_with_exact_em() -> None:
    scores = _calibrated_scores(10_000, 0.2, 2)
    hist = [0.0] * 50
    for s in scores:
        hist[min(int(s * 50), 49)] += 1
    assert estimate_histogram(hist, 0.5) == pytest.approx(estimate_prior(scores, 0.5), abs=0.01)


def test_estimate_needs_scores() -> None:
    with pytest.raises(ValueError):
        estimate_prior([], 0.5)
    with pytest.raises(ValueError):
        estimate_histogram([0.0] * 50, 0.5)


def test_tracker_waits_for_enough_scores_then_estimates_per_channel() -> None:
    tracker = PriorTracker(0.5, every=500, min_scores=500, step=0.025)
    low, high = _calibrated_scores(3000, 0.1, 3), _calibrated_scores(3000, 0.6, 4)
    for s in low[:499]:
        tracker.add("twitter", s)
    assert tracker.estimate("twitter") is None
    for s in low[499:]:
        tracker.add("twitter", s)
    for s in high:
        tracker.add("email", s)
    est = tracker.estimates()
    assert est["twitter"] == pytest.approx(0.1, abs=0.04)
    assert est["email"] == pytest.approx(0.6, abs=0.04)
    assert round(est["twitter"] / 0.025, 6) == round(est["twitter"] / 0.025)  # quantised


@pytest.mark.parametrize("text, expected", [
    ("", {}),
    ("0.2", {ANY_CHANNEL: 0.2}),
    ("twitter=0.15, email=0.4,*=0.2", {"twitter": 0.15, "email": 0.4, ANY_CHANNEL: 0.2}),
    ("Twitter=0.1", {"twitter": 0.1}),
])
def test_parse_priors(text: str, expected: dict[str, float]) -> None:
    assert parse_priors(text) == expected


@pytest.mark.parametrize("text, words", [
    ("twitter=lots", "not a number"),
    ("1.5", r"a share in \(0, 1\)"),
    ("twitter=0", r"a share in \(0, 1\)"),
    ("=0.2", "write channel=share"),
])
def test_parse_priors_errors_say_how_to_fix(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_priors(text)


def test_shifts_for_channels() -> None:
    shifts = shifts_for({"twitter": 0.25, ANY_CHANNEL: 0.5}, 0.5)
    assert shifts[ANY_CHANNEL] == 0.0 and shifts["twitter"] < 0


def _raw(text: str, channel: str = "twitter", i: int = 0) -> RawMessage:
    value = ('{"id": "m%d", "channel": "%s", "author": "@someone", "brand": "Aerolux", "text": "%s"}'
             % (i, channel, text)).encode()
    return RawMessage("mentions.raw", 0, i, 1_763_000_000_000, None, value)


def test_processor_applies_the_configured_prior_per_channel() -> None:
    model = load_default()
    text = "@aerolux my flight was delayed again, any update?"
    plain = MentionProcessor(model).process(_raw(text), lambda _: None, "2026-01-01T00:00:00Z")
    low = MentionProcessor(model, priors="twitter=0.05").process(_raw(text), lambda _: None, "2026-01-01T00:00:00Z")
    other = MentionProcessor(model, priors="email=0.05").process(_raw(text), lambda _: None, "2026-01-01T00:00:00Z")
    shift = prior_shift(0.05, model.training_prior)
    assert low.complaint.score == pytest.approx(adjust(plain.complaint.score, shift), rel=1e-9)
    assert other.complaint.score == pytest.approx(plain.complaint.score)  # another channel: untouched
    s = score_sentiment(text)
    assert model.score(text, s, addressed=True, shift=shift).score == pytest.approx(low.complaint.score)


def test_processor_auto_prior_follows_the_stream() -> None:
    model = load_default()
    proc = MentionProcessor(model, priors="auto")
    assert proc.shift_for("twitter") == 0.0  # nothing seen yet: the model's calibration
    praise = "Big thanks to @aerolux, smooth flight and friendly crew"
    for i in range(2000):
        proc.process(_raw(praise, i=i), lambda _: None, "2026-01-01T00:00:00Z")
    estimate = proc.tracker.estimate("twitter")
    assert estimate is not None and estimate < model.training_prior  # a stream of praise has few complaints
    assert proc.shift_for("twitter") < 0


def test_a_bad_prior_setting_is_a_clear_error() -> None:
    from pipeline.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="SOCIALPULSE_COMPLAINT_PRIORS.*not a number"):
        load_settings({"SOCIALPULSE_COMPLAINT_PRIORS": "twitter=lots"})
