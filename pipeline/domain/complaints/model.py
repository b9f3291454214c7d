"""Complaint detection: VADER scores + complaint cues + a small learned linear model (pure).

`pipeline.domain.complaints.features.extract_features` turns one mention (its ORIGINAL text, so `@brand`, `!!!` and CAPS
are still visible, the VADER `Sentiment` of the prepared text, and whether it is addressed to a brand) into
  * hashed sparse features: word unigrams (bigrams optional, `FeatureConfig.word_ngrams`), hashed with zlib.crc32
    (stable across processes, unlike the salted built-in `hash()`), binary, scaled to unit L2 norm;
  * named dense features: VADER scores, the shape of the mention (`SHAPE_NAMES`) and the complaint cues
    (`CUE_NAMES`, found by `pipeline.domain.complaints.cues`);
  * the names of the cues that fired (for ops: why a mention was flagged).
"Addressed" means addressed to a brand — one of its handles or a care handle (`pipeline.domain.brands.Brands.addressed`),
or a channel addressed by construction — not any @handle: most @-replies are people talking to people.
`ComplaintModel` is a logistic regression over those features whose weights ship in `domain/complaints/weights.json`
(trained by scripts/train_complaints.py, which imports the same feature code so training and serving cannot drift).
Platt calibration is folded into the shipped weights, so `score` is directly a calibrated probability in [0, 1].
Runtime needs only the standard library, msgspec and PyYAML (pipeline.domain.brands). See docs/complaints.md.
"""
from __future__ import annotations

import json
import math
import operator
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import msgspec

from pipeline.domain.complaints.cues import CUE_NAMES, TEXT_CAP, match_phrases
from pipeline.domain.complaints.features import (
    DENSE_NAMES,
    SHAPE_NAMES,
    VIRTUAL_HANDLE,
    FeatureConfig,
    Features,
    Tokenized,
    analyse,
    detect_cues,
    extract_features,
    normalise,
    stable_bucket,
    tokenize,
)
from pipeline.domain.sentiment import Sentiment

__all__ = [
    "CUE_NAMES", "DEFAULT_THRESHOLD", "DENSE_NAMES", "MODEL_FORMAT", "MODEL_PATH", "SHAPE_NAMES", "TEXT_CAP",
    "VIRTUAL_HANDLE", "ComplaintModel", "ComplaintScore", "FeatureConfig", "Features", "Tokenized", "analyse",
    "detect_cues", "extract_features", "load_default", "match_phrases", "normalise", "score_complaint",
    "stable_bucket", "tokenize",
]

#: Score at or above which a mention is a complaint. Chosen on the leave-one-domain-out (out-of-fold) predictions of
#: the dev data as the F1-maximising cut of the calibrated score (scripts/train_complaints.py prints it; a unit test
#: keeps it equal to the `threshold` stored in the shipped model). Configurable per call and per deployment.
DEFAULT_THRESHOLD: Final[float] = 0.6

#: Where the shipped weights live.
MODEL_PATH: Final[Path] = Path(__file__).resolve().parent / "weights.json"

#: Format version of domain/complaints/weights.json; bump when the feature extraction changes meaning (2: "addressed" is a
#: brand's or a care handle, not any @handle; `reply_to_person` added; 3: `praise` cue and `addressed_compound`).
MODEL_FORMAT: Final[int] = 3


class ComplaintScore(msgspec.Struct, frozen=True):
    """Result for one mention: `score` is a calibrated probability in [0, 1] that the mention is a complaint,
    `is_complaint` is `score ≥ threshold`, `cues` lists the complaint cues that fired (see `CUE_NAMES`)."""

    is_complaint: bool
    score: float
    cues: list[str]


class ComplaintModel:
    """Logistic complaint model over `analyse`/`extract_features` (weights from domain/complaints/weights.json)."""

    __slots__ = ("config", "bias", "weights", "dense_weights", "threshold", "meta", "_memo", "_shape_w", "_cue_w")

    #: Bound of the per-model memo feature string → weight (a pure cache; cleared when full).
    MEMO_MAX = 200_000

    def __init__(
        self,
        *,
        config: FeatureConfig,
        bias: float,
        weights: dict[int, float],
        dense_weights: list[float],
        threshold: float = DEFAULT_THRESHOLD,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if len(dense_weights) != len(DENSE_NAMES):
            raise ValueError(f"model has {len(dense_weights)} dense weights, this code expects {len(DENSE_NAMES)}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        self.config = config
        self.bias = bias
        self.weights = weights
        self.dense_weights = dense_weights
        self.threshold = threshold
        self.meta = meta or {}
        self._memo: dict[str, float] = {}
        self._shape_w = dense_weights[: len(SHAPE_NAMES)]
        self._cue_w = dict(zip(CUE_NAMES, dense_weights[len(SHAPE_NAMES) :]))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplaintModel:
        """Model from the decoded JSON of `to_dict` (raises ValueError on a wrong format or feature set)."""
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"complaint model format {data.get('format')!r}, expected {MODEL_FORMAT}")
        if tuple(data.get("dense_names", ())) != DENSE_NAMES:
            raise ValueError("complaint model was trained on other dense features; retrain it")
        config = msgspec.convert(data["config"], FeatureConfig)
        buckets, values = data["sparse"]["buckets"], data["sparse"]["weights"]
        return cls(
            config=config,
            bias=float(data["bias"]),
            weights={int(b): float(w) for b, w in zip(buckets, values)},
            dense_weights=[float(w) for w in data["dense_weights"]],
            threshold=float(data["threshold"]),
            meta=data.get("meta", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what domain/complaints/weights.json holds)."""
        items = sorted(self.weights.items())
        return {
            "format": MODEL_FORMAT,
            "config": msgspec.to_builtins(self.config),
            "dense_names": list(DENSE_NAMES),
            "bias": self.bias,
            "dense_weights": self.dense_weights,
            "threshold": self.threshold,
            "sparse": {"buckets": [b for b, _ in items], "weights": [w for _, w in items]},
            "meta": self.meta,
        }

    @classmethod
    def load(cls, path: str | Path) -> ComplaintModel:
        """Model from a JSON file written by scripts/train_complaints.py."""
        with open(path, "rb") as fh:
            return cls.from_dict(json.load(fh))

    @classmethod
    def load_default(cls) -> ComplaintModel:
        """The shipped model (pipeline/domain/complaints/weights.json), loaded once per process."""
        return load_default()

    def decision(self, features: Features) -> float:
        """Calibrated log-odds of a complaint for `extract_features` output (the training view of the model)."""
        get = self.weights.get
        sparse = sum([get(b, 0.0) for b in features.buckets]) * features.bucket_value
        return self.bias + sparse + sum([w * x for w, x in zip(self.dense_weights, features.dense)])

    def _sparse_sum(self, feats: set[str]) -> float:
        """Sum of the weights of the feature strings' buckets, through the memo feature string → weight."""
        memo = self._memo
        values = list(map(memo.get, feats))
        if None in values:
            if len(memo) > self.MEMO_MAX:
                memo.clear()
            n, weights = self.config.n_buckets, self.weights
            values = []
            for f in feats:
                w = memo.get(f)
                if w is None:
                    w = memo[f] = weights.get(stable_bucket(f, n), 0.0)
                values.append(w)
        return sum(values)

    @property
    def training_prior(self) -> float:
        """The complaint share the scores are calibrated for (the training data's; `meta.train_prior`)."""
        return float(self.meta.get("train_prior", 0.5))

    def score(
        self, text: str, sentiment: Sentiment, threshold: float | None = None, *, addressed: bool = False,
        shift: float = 0.0,
    ) -> ComplaintScore:
        """Complaint score of one mention: `text` is the original text, `sentiment` its VADER scores
        (`pipeline.domain.sentiment.score_sentiment(text)`); `threshold` defaults to the model's (DEFAULT_THRESHOLD).
        `addressed=True` when the mention is addressed to a brand: it names one of the brands' handles
        (`pipeline.domain.brands.Brands.addressed`) or comes on a channel addressed by construction (e-mail, support,
        reviews). A care handle (@AppleSupport) counts as addressed anyway; any other @handle does not — the model
        learned that mentions at a brand are far likelier complaints than people talking to people.
        `shift` (log-odds, `pipeline.domain.complaints.prior.prior_shift`) recalibrates the score for a stream whose
        complaint share differs from the training data's; the threshold applies to the shifted score."""
        feats, shape, cues = analyse(text, sentiment, self.config, addressed)
        cue_w = self._cue_w
        z = self.bias + sum(map(operator.mul, self._shape_w, shape)) + sum([cue_w[c] for c in cues])
        if feats:
            z += self._sparse_sum(feats) / math.sqrt(len(feats))
        z += shift
        # Clamp so exp() cannot overflow on absurd inputs; ±35 is already 1 - 1e-15.
        z = 35.0 if z > 35.0 else -35.0 if z < -35.0 else z
        p = 1.0 / (1.0 + math.exp(-z))
        cut = self.threshold if threshold is None else threshold
        return ComplaintScore(is_complaint=p >= cut, score=p, cues=cues)


@lru_cache(maxsize=1)
def load_default() -> ComplaintModel:
    """The shipped model (pipeline/domain/complaints/weights.json), loaded once per process."""
    return ComplaintModel.load(MODEL_PATH)


def score_complaint(
    text: str, sentiment: Sentiment, threshold: float | None = None, *, addressed: bool = False
) -> ComplaintScore:
    """`load_default().score(text, sentiment, threshold, addressed=addressed)`."""
    return load_default().score(text, sentiment, threshold, addressed=addressed)
