"""Evaluation of the complaint scorer on labelled CSV files (`socialpulse eval complaints FILE.csv`).

The CSV has a header with at least `text` and `label` (1 = complaint, 0 = not); `id` and `domain` are optional
(`domain` groups the per-domain rows; without it every row is in domain `all`). This is the format of
shared/data/complaints_dev.csv (columns id,text,label,domain). Pure apart from reading the file and the timing helper.

Whether a row is addressed to a brand needs the brands' handles; labelled tweets come without a brands.yml, so
`derive_brands` takes them from the data: the @handles that occur in at least BRAND_HANDLE_MIN_ROWS rows of one brand
domain are that domain's brand accounts (no label is used beyond which domains have complaints at all).
"""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Optional

import msgspec

from pipeline.domain.addressing import Addressing, HandleLearner
from pipeline.domain.brands import HANDLE_RE, NO_BRANDS, Brand, Brands
from pipeline.domain.complaints.model import ComplaintModel, load_default
from pipeline.domain.complaints.prior import ANY_CHANNEL, adjust, estimate_prior, parse_priors, prior_shift
from pipeline.domain.sentiment import NEGATIVE_THRESHOLD, Sentiment, score_sentiment
from pipeline.tools.labelled_csv import (  # noqa: F401 - re-exported: the reading side of this module's API
    AIRLINE_SENTIMENTS, LabelledText, airline_domain, parse_airline_csv, parse_labelled_csv, read_labelled_csv,
)

#: Name of the overall row in reports.
OVERALL = "overall"
#: A handle in at least this many rows of one brand domain is one of that domain's brand accounts (`derive_brands`).
BRAND_HANDLE_MIN_ROWS = 3
#: The channel labelled rows are read as (the dev data is tweets).
EVAL_CHANNEL = "twitter"


class Counts(msgspec.Struct, frozen=True):
    """Confusion counts and the metrics derived from them for one group of rows. Precision is None when nothing was
    predicted positive, recall None when the group has no positives (e.g. a domain of random tweets), F1 None when
    either is undefined."""

    group: str
    n: int
    positives: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: Optional[float]
    recall: Optional[float]
    f1: Optional[float]

    @property
    def false_positive_rate(self) -> Optional[float]:
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else None


class EvalReport(msgspec.Struct, frozen=True):
    """Metrics of the complaint model and of the VADER-only baseline (compound ≤ -0.05 → complaint) on one file:
    one row per domain (sorted by name) and the `overall` row pooled over all rows."""

    source: str
    threshold: float
    model: list[Counts]
    baseline: list[Counts]
    addressing: str = "derived brand accounts"
    prior: Optional[float] = None
    #: human sentiment label → (flagged, rows), for sentiment-labelled files (airline tweets)
    flagged_by_sentiment: dict[str, tuple[int, int]] = {}

    def overall(self) -> Counts:
        """The pooled row of the model."""
        return self.model[-1]


def counts(group: str, labels: Sequence[int], predictions: Sequence[bool]) -> Counts:
    """Confusion counts, precision, recall and F1 of `predictions` against `labels` (1 = complaint)."""
    tp = sum(1 for y, p in zip(labels, predictions) if y and p)
    fp = sum(1 for y, p in zip(labels, predictions) if not y and p)
    fn = sum(1 for y, p in zip(labels, predictions) if y and not p)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1: Optional[float] = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Counts(group, len(labels), tp + fn, tp, fp, fn, tn, precision, recall, f1)


def counts_by_domain(rows: Sequence[LabelledText], predictions: Sequence[bool]) -> list[Counts]:
    """One `Counts` per domain (sorted) followed by the pooled `overall` row."""
    if len(rows) != len(predictions):
        raise ValueError(f"{len(rows)} rows but {len(predictions)} predictions")
    by_domain: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_domain.setdefault(row.domain, []).append(i)
    result = [
        counts(domain, [rows[i].label for i in idx], [predictions[i] for i in idx])
        for domain, idx in sorted(by_domain.items())
    ]
    result.append(counts(OVERALL, [r.label for r in rows], list(predictions)))
    return result


def derive_brands(rows: Sequence[LabelledText], min_rows: int = BRAND_HANDLE_MIN_ROWS) -> Brands:
    """The brand accounts of labelled data, one brand per brand domain (a domain with at least one complaint): the
    @handles (lowercased) found in at least `min_rows` of the domain's rows, as its handles on EVAL_CHANNEL. A handle
    frequent in two domains goes to the one where it is most frequent (then the first by name)."""
    brand_domains = sorted({r.domain for r in rows if r.label == 1})
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        if r.domain in brand_domains:
            for handle in {h[1:].lower() for h in HANDLE_RE.findall(r.text)}:
                seen[(r.domain, handle)] = seen.get((r.domain, handle), 0) + 1
    owner: dict[str, tuple[int, str]] = {}
    for (domain, handle), n in sorted(seen.items()):
        if n >= min_rows and (handle not in owner or n > owner[handle][0]):
            owner[handle] = (n, domain)
    return Brands(
        [Brand(name=f"domain:{d}", handles={EVAL_CHANNEL: tuple(sorted(h for h, (_, o) in owner.items() if o == d))})
         for d in brand_domains],
        source="<brand accounts derived from the labelled rows>",
    )


#: The learner's thresholds for labelled files (a few hundred rows per brand, no authors): a handle named by 3 rows
#: and 2 % of a brand's handle-naming rows is learned (the worker's defaults are stricter: 10 mentions, 3 authors).
EVAL_LEARNER = {"min_mentions": 3, "min_authors": 1, "min_share": 0.02}


def stream_brand(row: LabelledText) -> str:
    """The brand a row's mention would arrive with: its `brand`, else its domain (the stream it was collected from)."""
    return row.brand or row.domain


def addressing_for(rows: Sequence[LabelledText], brands: Optional[Brands], learn: bool = True) -> Addressing:
    """The first stage's addressing rules for labelled rows: `brands` as configured (None: no brands.yml), handles
    resembling each row's brand, and — when `learn` — the handles learned from the rows themselves as a stream
    (unlabelled: `HandleLearner` fed every row's text with its `stream_brand`, thresholds `EVAL_LEARNER`), i.e. a
    learner warmed by the stream before these mentions are scored."""
    rules = Addressing(NO_BRANDS if brands is None else brands,
                       HandleLearner(**EVAL_LEARNER) if learn else None)  # type: ignore[arg-type]
    for r in rows:
        rules.observe(r.text, stream_brand(r), r.id)  # each row its own author: the files have no authors
    return rules


def addressed_flags(rows: Sequence[LabelledText], brands: Brands | Addressing) -> list[bool]:
    """Whether each row is addressed (on EVAL_CHANNEL): by `brands.addressed` for a registry, by the full rules of
    `Addressing` (with each row's `stream_brand`) otherwise."""
    if isinstance(brands, Addressing):
        return [brands.addressed(r.text, EVAL_CHANNEL, stream_brand(r)) for r in rows]
    return [brands.addressed(r.text, EVAL_CHANNEL) for r in rows]


def evaluate(
    rows: Sequence[LabelledText],
    threshold: float | None = None,
    model: ComplaintModel | None = None,
    source: str = "<rows>",
    sentiment: Callable[[str], Sentiment] = score_sentiment,
    brands: Brands | None = None,
    *,
    blind: bool = False,
    prior: str = "",
) -> EvalReport:
    """Score every row with `model` (default: the shipped one) and the VADER-only baseline, per domain + overall.
    Addressed as the first stage decides it (`addressing_for`): with `brands` as brands.yml (default: the accounts
    `derive_brands(rows)` finds, as an operator would list them), or — `blind` — without any brands.yml (handles
    resembling each row's brand, handles learned from the file as a stream, care handles). `prior`: "" = the model's
    calibration, a number = the expected complaint share of the file, "auto" = estimated from the file's own
    scores by EM (`pipeline.domain.complaints.prior`)."""
    model = model or load_default()
    cut = model.threshold if threshold is None else threshold
    sentiments = [sentiment(r.text) for r in rows]
    addressing = addressing_for(rows, None if blind else (derive_brands(rows) if brands is None else brands))
    flags = addressed_flags(rows, addressing)
    raw = [model.score(r.text, s, 1.0, addressed=a).score for r, s, a in zip(rows, sentiments, flags)]
    used_prior: Optional[float] = None
    if prior.strip().lower() == "auto":
        used_prior = estimate_prior(raw, model.training_prior)
    elif prior.strip():
        priors = parse_priors(prior)
        used_prior = priors.get(ANY_CHANNEL, priors.get(EVAL_CHANNEL))
        if used_prior is None:
            raise ValueError(f"prior {prior!r}: give one number (the file is read as {EVAL_CHANNEL})")
    shift = 0.0 if used_prior is None else prior_shift(used_prior, model.training_prior)
    predictions = [adjust(p, shift) >= cut for p in raw]
    baseline = [s.compound <= NEGATIVE_THRESHOLD for s in sentiments]
    by_sentiment = {
        label: (sum(1 for r, p in zip(rows, predictions) if r.sentiment == label and p),
                sum(1 for r in rows if r.sentiment == label))
        for label in AIRLINE_SENTIMENTS if any(r.sentiment == label for r in rows)
    }
    return EvalReport(
        source=source,
        threshold=cut,
        model=counts_by_domain(rows, predictions),
        baseline=counts_by_domain(rows, baseline),
        addressing="no brands.yml" if blind else ("brands.yml" if brands is not None else "derived brand accounts"),
        prior=used_prior,
        flagged_by_sentiment=by_sentiment,
    )


def evaluate_csv(
    path: str | Path, threshold: float | None = None, model: ComplaintModel | None = None, brands: Brands | None = None,
    *, blind: bool = False, prior: str = "",
) -> EvalReport:
    """Evaluate the complaint scorer on a labelled CSV (columns id,text,label,domain, or the airline-sentiment
    format; see module doc); `brands`, `blind` and `prior` as in `evaluate`. Raises ValueError with a clear message
    when the file is missing or malformed."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    return evaluate(read_labelled_csv(path), threshold, model, source=str(path), brands=brands, blind=blind,
                    prior=prior)


def false_alarm_rate(predictions: Sequence[bool]) -> float:
    """Share of flagged texts among texts that are all non-complaints (e.g. person-to-person replies)."""
    if not predictions:
        raise ValueError("false_alarm_rate needs at least one prediction")
    return sum(1 for p in predictions if p) / len(predictions)


def _fmt(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.3f}"


def render_table(rows: Iterable[Counts], baseline: Iterable[Counts] | None = None) -> str:
    """Markdown table: one line per group with n, positives, P, R, F1 (and the baseline's P/R/F1 if given)."""
    head = "| domain | n | complaints | P | R | F1 |"
    rule = "|---|---:|---:|---:|---:|---:|"
    base = {c.group: c for c in baseline} if baseline is not None else None
    if base is not None:
        head += " VADER P | VADER R | VADER F1 |"
        rule += "---:|---:|---:|"
    lines = [head, rule]
    for c in rows:
        name = f"**{c.group}**" if c.group == OVERALL else c.group
        f1 = _fmt(c.f1)
        if c.positives == 0 and c.false_positive_rate is not None:
            f1 += f" (FP rate {c.false_positive_rate:.3f})"
        line = f"| {name} | {c.n} | {c.positives} | {_fmt(c.precision)} | {_fmt(c.recall)} | {f1} |"
        if base is not None:
            b = base.get(c.group)
            line += (
                f" {_fmt(b.precision)} | {_fmt(b.recall)} | {_fmt(b.f1)} |" if b is not None else " | | |"
            )
        lines.append(line)
    return "\n".join(lines)


def render_report(report: EvalReport) -> str:
    """Human-readable report: per-domain and overall P/R/F1 of the model, with the VADER-only baseline beside it."""
    overall = report.overall()
    prior = ("the model's calibration" if report.prior is None
             else f"expected complaint share {report.prior:.3f}")
    flagged = "".join(f"\n{label} rows flagged as complaints: {k}/{n} ({k / n:.3f})"
                      for label, (k, n) in report.flagged_by_sentiment.items() if n)
    return (
        f"Complaint scorer on {report.source} (threshold {report.threshold:.2f}; addressed by "
        f"{report.addressing}; {prior}; baseline: VADER compound <= {NEGATIVE_THRESHOLD})\n"
        f"{render_table(report.model, report.baseline)}\n"
        f"Overall: precision {_fmt(overall.precision)}, recall {_fmt(overall.recall)}, F1 {_fmt(overall.f1)} "
        f"(tp {overall.tp}, fp {overall.fp}, fn {overall.fn}, tn {overall.tn})\n"
        "A domain without complaints has no recall/F1; its false-positive rate is shown instead."
        f"{flagged}"
    )


class ScorerTiming(msgspec.Struct, frozen=True):
    """Mean wall time per text, in microseconds, best of `rounds` passes over the texts."""

    texts: int
    rounds: int
    vader_us: float
    complaint_us: float

    @property
    def ratio(self) -> float:
        """Complaint-scorer time as a fraction of VADER's time."""
        return self.complaint_us / self.vader_us if self.vader_us else float("inf")


def benchmark_scorer(
    texts: Sequence[str], rounds: int = 3, model: ComplaintModel | None = None
) -> ScorerTiming:
    """Time VADER (`score_sentiment`) and the complaint scorer (`ComplaintModel.score` given the sentiment) per text
    on `texts`; the best of `rounds` passes each (for bench commands and docs/complaints.md)."""
    if not texts:
        raise ValueError("benchmark_scorer needs at least one text")
    model = model or load_default()
    sentiments = [score_sentiment(t) for t in texts]  # warms the analyzer's lexicon too
    best_vader = best_complaint = float("inf")
    for _ in range(max(1, rounds)):
        start = time.perf_counter()
        for t in texts:
            score_sentiment(t)
        best_vader = min(best_vader, time.perf_counter() - start)
        score = model.score
        start = time.perf_counter()
        for t, s in zip(texts, sentiments):
            score(t, s)
        best_complaint = min(best_complaint, time.perf_counter() - start)
    n = len(texts)
    return ScorerTiming(n, max(1, rounds), best_vader / n * 1e6, best_complaint / n * 1e6)
