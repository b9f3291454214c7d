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

from pipeline.domain.brands import HANDLE_RE, Brand, Brands
from pipeline.domain.complaints.model import ComplaintModel, load_default
from pipeline.domain.sentiment import NEGATIVE_THRESHOLD, Sentiment, score_sentiment
from pipeline.textfile import read_text

REQUIRED_COLUMNS = ("text", "label")
#: Name of the overall row in reports.
OVERALL = "overall"
#: A handle in at least this many rows of one brand domain is one of that domain's brand accounts (`derive_brands`).
BRAND_HANDLE_MIN_ROWS = 3
#: The channel labelled rows are read as (the dev data is tweets).
EVAL_CHANNEL = "twitter"
#: Rows larger than this are refused (a CSV field limit, so a broken quote cannot swallow the whole file silently).
MAX_FIELD = 100_000


class LabelledText(msgspec.Struct, frozen=True):
    """One labelled row: `label` is 1 for a complaint, 0 otherwise."""

    id: str
    text: str
    label: int
    domain: str


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


def addressed_flags(rows: Sequence[LabelledText], brands: Brands) -> list[bool]:
    """`brands.addressed(text, EVAL_CHANNEL)` of every row."""
    return [brands.addressed(r.text, EVAL_CHANNEL) for r in rows]


def read_labelled_csv(path: str | Path) -> list[LabelledText]:
    """Rows of a labelled CSV (see module doc). Raises ValueError naming the problem: missing or unreadable file,
    not UTF-8, no header, missing `text`/`label` column, a label other than 0/1 (with its line), no rows."""
    path = Path(path)
    return parse_labelled_csv(read_text(path), source=str(path))


def parse_labelled_csv(content: str, source: str = "<csv>") -> list[LabelledText]:
    """Rows of labelled CSV text; see `read_labelled_csv` for the checks."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not header:
            raise ValueError(f"{source}: empty file (expected a header with columns id,text,label,domain)")
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(
                f"{source}: missing column(s) {', '.join(missing)}; header is {','.join(header)} "
                "(expected id,text,label,domain)"
            )
        reader.fieldnames = header
        rows: list[LabelledText] = []
        for number, record in enumerate(reader, start=2):
            if None in record:
                raise ValueError(f"{source}: line {number}: more fields than the header has")
            text, label = record.get("text"), (record.get("label") or "").strip()
            if text is None:
                raise ValueError(f"{source}: line {number}: fewer fields than the header has")
            if label not in ("0", "1"):
                raise ValueError(f"{source}: line {number}: label must be 0 or 1, got {label!r}")
            rows.append(
                LabelledText(
                    id=(record.get("id") or str(number)).strip(),
                    text=text,
                    label=int(label),
                    domain=(record.get("domain") or "all").strip() or "all",
                )
            )
    except csv.Error as exc:
        raise ValueError(f"{source}: malformed CSV ({exc})") from None
    finally:
        csv.field_size_limit(old_limit)
    if not rows:
        raise ValueError(f"{source}: header but no rows")
    return rows


def evaluate(
    rows: Sequence[LabelledText],
    threshold: float | None = None,
    model: ComplaintModel | None = None,
    source: str = "<rows>",
    sentiment: Callable[[str], Sentiment] = score_sentiment,
    brands: Brands | None = None,
) -> EvalReport:
    """Score every row with `model` (default: the shipped one) and the VADER-only baseline, per domain + overall;
    a row is addressed when it names one of `brands`' handles or a care handle (default: `derive_brands(rows)`)."""
    model = model or load_default()
    cut = model.threshold if threshold is None else threshold
    sentiments = [sentiment(r.text) for r in rows]
    flags = addressed_flags(rows, derive_brands(rows) if brands is None else brands)
    predictions = [
        model.score(r.text, s, cut, addressed=a).is_complaint for r, s, a in zip(rows, sentiments, flags)
    ]
    baseline = [s.compound <= NEGATIVE_THRESHOLD for s in sentiments]
    return EvalReport(
        source=source,
        threshold=cut,
        model=counts_by_domain(rows, predictions),
        baseline=counts_by_domain(rows, baseline),
    )


def evaluate_csv(
    path: str | Path, threshold: float | None = None, model: ComplaintModel | None = None, brands: Brands | None = None
) -> EvalReport:
    """Evaluate the complaint scorer on a labelled CSV (columns id,text,label,domain; see module doc); `brands` as in
    `evaluate`. Raises ValueError with a clear message when the file is missing or malformed."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    return evaluate(read_labelled_csv(path), threshold, model, source=str(path), brands=brands)


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
    return (
        f"Complaint scorer on {report.source} (threshold {report.threshold:.2f}; "
        f"baseline: VADER compound <= {NEGATIVE_THRESHOLD})\n"
        f"{render_table(report.model, report.baseline)}\n"
        f"Overall: precision {_fmt(overall.precision)}, recall {_fmt(overall.recall)}, F1 {_fmt(overall.f1)} "
        f"(tp {overall.tp}, fp {overall.fp}, fn {overall.fn}, tn {overall.tn})\n"
        "A domain without complaints has no recall/F1; its false-positive rate is shown instead."
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
