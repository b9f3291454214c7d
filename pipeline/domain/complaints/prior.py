"""The complaint share of the stream a deployment runs on, and the correction of the model's scores for it (pure).

The complaint model's score is a probability calibrated on its training data, whose complaint share (the *training
prior*, stored in the model file) is that of tweets sent to customer-care and airline accounts — far above a
brand's general stream. Bayes' rule moves a calibrated score from one prior to another by a shift of its log-odds
(Saerens, Latinne & Decaestecker, "Adjusting the outputs of a classifier to new a priori probabilities", Neural
Computation 2002):

    logit p' = logit p + logit(deployment prior) − logit(training prior)

`prior_shift` gives that shift; `ComplaintModel.score(..., shift=)` applies it. The deployment prior is configured
per channel (`parse_priors`, setting `complaint_priors`), or estimated from the stream's own unlabelled scores by
the EM procedure of the same paper (`estimate_prior`): `socialpulse eval complaints --prior auto` and the
suggestion of docs/complaints.md. See docs/complaints.md, "Calibrated for the stream it runs on".
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

from pipeline.settings import ANY_CHANNEL, parse_priors

__all__ = ["ANY_CHANNEL", "PRIOR_MAX", "PRIOR_MIN", "PriorTracker", "adjust", "estimate_histogram", "estimate_prior",
           "parse_priors", "prior_shift", "shifts_for"]

#: Priors are clamped to this range (a prior of 0 or 1 would be an infinite shift).
PRIOR_MIN: Final[float] = 0.005
PRIOR_MAX: Final[float] = 0.995


def _logit(p: float) -> float:
    p = min(max(p, PRIOR_MIN), PRIOR_MAX)
    return math.log(p / (1.0 - p))


def prior_shift(deployment_prior: float, training_prior: float) -> float:
    """Log-odds to add to a score calibrated at `training_prior` so it is calibrated at `deployment_prior`."""
    return _logit(deployment_prior) - _logit(training_prior)


def adjust(score: float, shift: float) -> float:
    """A calibrated score moved by `shift` log-odds (`prior_shift`)."""
    score = min(max(score, 1e-12), 1.0 - 1e-12)
    z = math.log(score / (1.0 - score)) + shift
    z = 35.0 if z > 35.0 else -35.0 if z < -35.0 else z
    return 1.0 / (1.0 + math.exp(-z))


def estimate_prior(scores: Iterable[float], training_prior: float, *, iterations: int = 200,
                   tolerance: float = 1e-6) -> float:
    """The complaint share of a stream estimated from its unlabelled calibrated scores (EM of Saerens et al. 2002):
    start at the training prior; re-weight every score to the current prior; the new prior is the mean of the
    re-weighted scores; repeat until it moves less than `tolerance`. Raises ValueError for no scores."""
    values = [(1.0, min(max(float(s), 1e-9), 1.0 - 1e-9)) for s in scores]
    if not values:
        raise ValueError("estimate_prior needs at least one score")
    return _em(values, training_prior, iterations, tolerance)


def _em(points: list[tuple[float, float]], training_prior: float, iterations: int, tolerance: float) -> float:
    """EM of `estimate_prior` over (weight, score) points with a positive total weight."""
    total = sum(w for w, _ in points)
    t = min(max(training_prior, PRIOR_MIN), PRIOR_MAX)
    prior = t
    for _ in range(iterations):
        a, b = prior / t, (1.0 - prior) / (1.0 - t)
        new = sum(w * a * s / (a * s + b * (1.0 - s)) for w, s in points) / total
        new = min(max(new, PRIOR_MIN), PRIOR_MAX)
        if abs(new - prior) < tolerance:
            return new
        prior = new
    return prior


def shifts_for(priors: Mapping[str, float], training_prior: float) -> dict[str, float]:
    """channel → log-odds shift for configured `priors` (`parse_priors`); `*` covers the channels not listed."""
    return {channel: prior_shift(p, training_prior) for channel, p in priors.items()}


#: Bins of the score histogram `PriorTracker` keeps per channel.
TRACKER_BINS: Final[int] = 50


class PriorTracker:
    """The complaint share of each channel's recent stream, estimated by EM (`estimate_prior`) from a histogram of
    its calibrated scores (TRACKER_BINS bins, so re-estimating costs the same whatever the volume): every `every`
    scores of a channel the estimate is refreshed and the histogram halved (older scores fade out). `estimate` is
    None until a channel has `min_scores` scores. Estimates are rounded to `step` so the shift they give changes
    rarely (a mention re-scored on a replay gets the same answer unless the stream's complaint share moved)."""

    def __init__(self, training_prior: float, *, every: int = 1000, min_scores: int = 500,
                 step: float = 0.025) -> None:
        if every < 1 or min_scores < 1 or not 0.0 < step < 0.5:
            raise ValueError("PriorTracker: every and min_scores must be ≥ 1, step in (0, 0.5)")
        self.training_prior, self.every, self.min_scores, self.step = training_prior, every, min_scores, step
        self._hist: dict[str, list[float]] = {}
        self._pending: dict[str, int] = {}
        self._estimate: dict[str, float] = {}

    def add(self, channel: str, score: float) -> None:
        """One calibrated (uncorrected) score of `channel`."""
        hist = self._hist.get(channel)
        if hist is None:
            hist = self._hist[channel] = [0.0] * TRACKER_BINS
        b = int(score * TRACKER_BINS)
        hist[b if b < TRACKER_BINS else TRACKER_BINS - 1] += 1.0
        pending = self._pending.get(channel, 0) + 1
        if pending >= self.every:
            self._refresh(channel, hist)
            pending = 0
        self._pending[channel] = pending

    def _refresh(self, channel: str, hist: list[float]) -> None:
        total = sum(hist)
        if total >= self.min_scores:
            prior = estimate_histogram(hist, self.training_prior)
            self._estimate[channel] = min(max(round(prior / self.step) * self.step, PRIOR_MIN), PRIOR_MAX)
        self._hist[channel] = [h * 0.5 for h in hist]

    def estimate(self, channel: str) -> float | None:
        """The channel's estimated complaint share (rounded to `step`), or None while too few scores were seen."""
        return self._estimate.get(channel)

    def estimates(self) -> dict[str, float]:
        """channel → estimated complaint share, for the channels that have one."""
        return dict(self._estimate)


def estimate_histogram(hist: list[float], training_prior: float, *, iterations: int = 200,
                       tolerance: float = 1e-6) -> float:
    """`estimate_prior` over a histogram of scores (`hist[i]` scores in bin i of len(hist) equal bins, each taken
    at its centre)."""
    n = len(hist)
    if sum(hist) <= 0:
        raise ValueError("estimate_histogram needs at least one score")
    return _em([(w, (i + 0.5) / n) for i, w in enumerate(hist) if w], training_prior, iterations, tolerance)
