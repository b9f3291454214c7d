#!/usr/bin/env python
"""Train the complaint model and estimate how it generalises to unseen brands (leave-one-domain-out).

    .venv/bin/python scripts/train_complaints.py [CSV] [--out MODEL.json] [--docs docs/complaints.md]
                                                 [--ablations] [--no-strict] [--no-write] [--word-ngrams 1|2]

CSV defaults to ../shared/data/complaints_dev.csv relative to the repo root (columns id,text,label,domain).
Needs the dev extra: `pip install scikit-learn` (numpy, scipy); the runtime scorer needs neither.

What it does (deterministic: fixed seeds, deterministic solver, sorted iteration; re-running rewrites the same file):
1. Features come from `pipeline.complaints.extract_features` — the exact code the pipeline runs.
2. Nested leave-one-domain-out (LODO): for each held-out domain, the hyper-parameters (C, dense-feature scale), the
   Platt calibration and the threshold are chosen by an inner LODO over the *training* domains only; the model is
   then fitted on all training domains and the held-out domain is predicted once. Nothing about the held-out domain
   is seen before its predictions are made. The per-domain and pooled P/R/F1 of those predictions is the estimate.
   Folds are the brand domains (those with complaints). A "background" domain without any complaint (random_tweet:
   the general stream, not a brand) is not a brand to generalise to: its rows are spread over the brand folds by a
   seeded shuffle, so every row is still predicted exactly once by a model that never saw it, and every training set
   contains general-stream negatives, as the shipped model's does. The stricter protocol that also holds the
   background domain out as a whole (the model then never sees a non-brand tweet) is reported beside it.
3. The VADER-only baseline (compound <= -0.05 → complaint) is reported on the same rows.
4. The shipped model: the same selection by LODO over all domains picks C/scale, Platt calibration (fitted on the
   out-of-fold decision values) and the threshold (F1-maximising cut of the calibrated out-of-fold scores); it is
   then fitted on all rows, the calibration is folded into its weights and it is written as JSON.
5. Timing: VADER vs the complaint scorer per text on the dev texts.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402  (dev extra, training only)
import sklearn  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from pipeline.complaints import DENSE_NAMES, ComplaintModel, FeatureConfig, Features, extract_features  # noqa: E402
from pipeline.complaints_eval import (  # noqa: E402
    Counts,
    LabelledText,
    benchmark_scorer,
    counts_by_domain,
    read_labelled_csv,
    render_table,
)
from pipeline.sentiment import NEGATIVE_THRESHOLD, score_sentiment  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "data" / "complaints_dev.csv"
DEFAULT_OUT = REPO / "pipeline" / "models" / "complaints.json"
SEED = 0
#: Hyper-parameter grid, fixed a priori; chosen per fold by inner LODO on the training domains only.
C_GRID: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0)
DENSE_SCALE_GRID: tuple[float, ...] = (1.0, 3.0)
#: Candidate thresholds on the calibrated score.
THRESHOLDS = np.round(np.arange(0.10, 0.901, 0.01), 2)
_HANDLE_RE = re.compile(r"(?<![\w@])@\w+")
DOCS_START, DOCS_END = "<!-- train_complaints:start -->", "<!-- train_complaints:end -->"

Params = tuple[float, float]  # (C, dense scale)


class Data:
    """Feature matrices of the rows: the hashed part (unit-L2 rows) and the dense part, kept apart so the dense
    columns can be rescaled per hyper-parameter without re-extracting."""

    def __init__(self, rows: Sequence[LabelledText], feats: Sequence[Features], config: FeatureConfig) -> None:
        self.y = np.array([r.label for r in rows], dtype=np.int64)
        self.config = config
        indptr, indices, values = [0], [], []
        for f in feats:
            indices.extend(sorted(f.buckets))
            values.extend([f.bucket_value] * len(f.buckets))
            indptr.append(len(indices))
        self.hashed = sparse.csr_matrix(
            (np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64), np.array(indptr)),
            shape=(len(rows), config.n_buckets),
        )
        self.hashed.sum_duplicates()  # a hash collision inside one text adds up, as in ComplaintModel.score
        self.dense = np.array([f.dense for f in feats], dtype=np.float64)

    def matrix(self, idx: np.ndarray, scale: float) -> sparse.csr_matrix:
        return sparse.hstack([self.hashed[idx], sparse.csr_matrix(self.dense[idx] * scale)], format="csr")


def featurise(
    rows: Sequence[LabelledText], config: FeatureConfig, strip_handles: bool = False, addressed: bool = False
) -> list[Features]:
    """`extract_features` of every row (optionally with its @handles removed first, optionally `addressed`)."""
    out = []
    for r in rows:
        text = _HANDLE_RE.sub(" ", r.text) if strip_handles else r.text
        out.append(extract_features(text, score_sentiment(text), config, addressed))
    return out


def assign_folds(rows: Sequence[LabelledText], strict: bool) -> np.ndarray:
    """Fold of every row: its domain. Unless `strict`, rows of background domains (no complaint at all) are spread
    round-robin over the brand domains in a seeded random order."""
    domains = np.array([r.domain for r in rows], dtype=object)
    brands = sorted({r.domain for r in rows if r.label == 1})
    if strict or not brands:
        return domains
    folds = domains.copy()
    background = np.array([i for i, r in enumerate(rows) if r.domain not in brands], dtype=np.int64)
    order = np.random.RandomState(SEED).permutation(len(background))
    for k, j in enumerate(order):
        folds[background[j]] = brands[k % len(brands)]
    return folds


def fit(data: Data, idx: np.ndarray, params: Params) -> LogisticRegression:
    c, scale = params
    clf = LogisticRegression(C=c, solver="newton-cg", max_iter=1000, tol=1e-6, random_state=SEED)
    clf.fit(data.matrix(idx, scale), data.y[idx])
    return clf


def lodo_decisions(data: Data, idx: np.ndarray, folds: np.ndarray, params: Params) -> np.ndarray:
    """Out-of-fold decision values for rows `idx`, each fold predicted by a model fitted on the other folds."""
    z = np.zeros(len(idx))
    sub = folds[idx]
    for f in sorted(set(sub)):
        held = sub == f
        clf = fit(data, idx[~held], params)
        z[held] = clf.decision_function(data.matrix(idx[held], params[1]))
    return z


def fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a*z + b) fitted on out-of-fold decision values (almost unregularised)."""
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000, random_state=SEED)
    lr.fit(z.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


def f1_at(p: np.ndarray, y: np.ndarray, t: float) -> float:
    pred = p >= t
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_threshold(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """F1-maximising threshold on the candidate grid (first of equals) and its F1."""
    scores = [f1_at(p, y, t) for t in THRESHOLDS]
    i = int(np.argmax(scores))
    return float(THRESHOLDS[i]), scores[i]


class Selection:
    """Hyper-parameters, calibration and threshold chosen by LODO on some rows, with the out-of-fold F1."""

    def __init__(self, params: Params, platt: tuple[float, float], threshold: float, f1: float) -> None:
        self.params, self.platt, self.threshold, self.f1 = params, platt, threshold, f1


def select(data: Data, idx: np.ndarray, folds: np.ndarray, grid: Sequence[Params]) -> Selection:
    """Pick the params with the best pooled LODO F1 over the folds of `idx` (the threshold tuned on the same
    out-of-fold scores, for every candidate alike); ties go to the earlier (more regularised) candidate."""
    best: Selection | None = None
    y = data.y[idx]
    for params in grid:
        z = lodo_decisions(data, idx, folds, params)
        platt = fit_platt(z, y)
        t, f1 = best_threshold(sigmoid(platt[0] * z + platt[1]), y)
        if best is None or f1 > best.f1 + 1e-12:
            best = Selection(params, platt, t, f1)
    assert best is not None
    return best


def nested_lodo(
    data: Data, folds: np.ndarray, grid: Sequence[Params], extra: dict[str, Data] | None = None, log: bool = True
) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    """Honest estimate: the prediction of every row by a model that never saw its fold, with everything (params,
    calibration, threshold) chosen by an inner LODO on the other folds. `extra` are alternative featurisations of
    the same rows (e.g. handles stripped) predicted by the same fold models."""
    all_idx = np.arange(len(data.y))
    pred = np.zeros(len(all_idx), dtype=bool)
    extra_pred = {name: np.zeros(len(all_idx), dtype=bool) for name in (extra or {})}
    notes = []
    for f in sorted(set(folds)):
        held = folds == f
        train_idx, test_idx = all_idx[~held], all_idx[held]
        sel = select(data, train_idx, folds, grid)
        clf = fit(data, train_idx, sel.params)
        a, b = sel.platt
        z = clf.decision_function(data.matrix(test_idx, sel.params[1]))
        pred[test_idx] = sigmoid(a * z + b) >= sel.threshold
        for name, other in (extra or {}).items():
            zz = clf.decision_function(other.matrix(test_idx, sel.params[1]))
            extra_pred[name][test_idx] = sigmoid(a * zz + b) >= sel.threshold
        note = (
            f"fold {f}: C={sel.params[0]:g}, dense_scale={sel.params[1]:g}, threshold {sel.threshold:.2f} "
            f"(inner LODO F1 {sel.f1:.3f})"
        )
        notes.append(note)
        if log:
            print("  " + note, flush=True)
    return pred, extra_pred, notes


def export(data: Data, sel: Selection, path: Path, meta: dict[str, object]) -> ComplaintModel:
    """Fit on all rows with the selected params; fold Platt (a, b) and the dense scale into the weights; write JSON."""
    clf = fit(data, np.arange(len(data.y)), sel.params)
    a, b = sel.platt
    n = data.config.n_buckets
    coef = clf.coef_[0]
    hashed = coef[:n] * a
    dense = coef[n:] * sel.params[1] * a
    weights = {int(i): round(float(hashed[i]), 5) for i in np.flatnonzero(np.abs(hashed) >= 1e-5)}
    model = ComplaintModel(
        config=data.config,
        bias=round(float(clf.intercept_[0] * a + b), 6),
        weights=weights,
        dense_weights=[round(float(w), 6) for w in dense],
        threshold=sel.threshold,
        meta=meta,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_dict(), separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    return model


def _without_hashed(f: Features) -> Features:
    return Features(buckets=[], bucket_value=0.0, dense=f.dense, cues=f.cues)


def _without_dense(f: Features) -> Features:
    return Features(buckets=f.buckets, bucket_value=f.bucket_value, dense=[0.0] * len(f.dense), cues=f.cues)


def _prf(c: Counts) -> str:
    return f"P {c.precision or 0:.3f} R {c.recall or 0:.3f} F1 {c.f1 or 0:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[1])
    ap.add_argument("csv", nargs="?", default=str(DEFAULT_CSV), help=f"labelled CSV (default {DEFAULT_CSV})")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="where to write the model JSON")
    ap.add_argument("--no-write", action="store_true", help="evaluate only; do not write the model")
    ap.add_argument("--docs", default=None, help="markdown file whose generated section (between markers) to refresh")
    ap.add_argument("--no-strict", action="store_true", help="skip the strict protocol (background held out too)")
    ap.add_argument("--ablations", action="store_true", help="also run nested LODO for feature-set ablations")
    ap.add_argument("--word-ngrams", type=int, choices=(1, 2), default=FeatureConfig().word_ngrams,
                    help="1 = unigrams, 2 = unigrams + bigrams (default %(default)s)")
    args = ap.parse_args(argv)
    np.random.seed(SEED)

    csv_path = Path(args.csv)
    rows = read_labelled_csv(csv_path)
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()[:16]
    config = FeatureConfig(word_ngrams=args.word_ngrams)
    grid: list[Params] = list(itertools.product(C_GRID, DENSE_SCALE_GRID))
    print(
        f"{len(rows)} rows from {csv_path} (sha256 {digest}…), {sum(r.label for r in rows)} complaints; "
        f"scikit-learn {sklearn.__version__}; grid C={C_GRID} dense_scale={DENSE_SCALE_GRID}",
        flush=True,
    )
    t0 = time.perf_counter()
    feats = featurise(rows, config)
    data = Data(rows, feats, config)
    stripped = Data(rows, featurise(rows, config, strip_handles=True), config)
    stripped_addressed = Data(rows, featurise(rows, config, strip_handles=True, addressed=True), config)
    print(f"features extracted in {time.perf_counter() - t0:.1f}s", flush=True)
    folds = assign_folds(rows, strict=False)

    # 1. Honest estimate: nested LODO over the brand domains (background rows spread over the folds).
    print("nested leave-one-domain-out (inner LODO picks C, scale, calibration, threshold):", flush=True)
    pred, extra_pred, notes = nested_lodo(
        data, folds, grid, extra={"no_handles": stripped, "no_handles_addressed": stripped_addressed}
    )
    model_rows = counts_by_domain(rows, list(pred))
    vader_pred = [score_sentiment(r.text).compound <= NEGATIVE_THRESHOLD for r in rows]
    baseline_rows = counts_by_domain(rows, vader_pred)
    table = render_table(model_rows, baseline_rows)
    print("\nLODO (each row predicted by a model that never saw its brand domain; overall = pooled):")
    print(table)
    lodo = model_rows[-1]
    brand = [i for i, r in enumerate(rows) if r.domain in set(folds)]
    brand_rows = [rows[i] for i in brand]
    nohandle = counts_by_domain(brand_rows, [bool(extra_pred["no_handles"][i]) for i in brand])[-1]
    addressed = counts_by_domain(brand_rows, [bool(extra_pred["no_handles_addressed"][i]) for i in brand])[-1]
    with_handles = counts_by_domain(brand_rows, [bool(pred[i]) for i in brand])[-1]
    nohandle_line = (
        "Channels without @handles: the same fold models on the brand-domain texts (random_tweet excluded) — "
        f"as written: {_prf(with_handles)}; every @handle removed: {_prf(nohandle)}; handles removed and "
        f"`addressed=True`: {_prf(addressed)}"
    )
    print(nohandle_line)

    strict_text = ""
    if not args.no_strict:
        print("\nstrict protocol: every domain, background included, held out as a whole:", flush=True)
        strict_pred, _, strict_notes = nested_lodo(data, assign_folds(rows, strict=True), grid)
        strict_rows = counts_by_domain(rows, list(strict_pred))
        strict_table = render_table(strict_rows, baseline_rows)
        print(strict_table)
        strict_text = "\n".join([strict_table, "", *[f"- {n}" for n in strict_notes]])

    ablation_text = ""
    if args.ablations:
        lines = ["| features | LODO P | LODO R | LODO F1 |", "|---|---:|---:|---:|"]
        variants = {
            "VADER + cues + shape only (no n-grams)": Data(rows, [_without_hashed(f) for f in feats], config),
            "n-grams only (no VADER, cues or shape)": Data(rows, [_without_dense(f) for f in feats], config),
        }
        for name, variant in variants.items():
            print(f"ablation: {name}", flush=True)
            vpred, _, _ = nested_lodo(variant, folds, grid, log=False)
            c = counts_by_domain(rows, list(vpred))[-1]
            lines.append(f"| {name} | {c.precision or 0:.3f} | {c.recall or 0:.3f} | {c.f1 or 0:.3f} |")
        lines.append(f"| all (shipped) | {lodo.precision or 0:.3f} | {lodo.recall or 0:.3f} | {lodo.f1 or 0:.3f} |")
        base = baseline_rows[-1]
        lines.append(f"| VADER only, compound ≤ -0.05 | {base.precision or 0:.3f} | {base.recall or 0:.3f} | "
                     f"{base.f1 or 0:.3f} |")
        ablation_text = "\n".join(lines)
        print(ablation_text)

    # 2. The shipped model: selection by LODO over all folds, then fit on everything.
    print("\nselecting the shipped model's params by LODO over all folds…", flush=True)
    sel = select(data, np.arange(len(rows)), folds, grid)
    print(
        f"chosen C={sel.params[0]:g} dense_scale={sel.params[1]:g}; Platt a={sel.platt[0]:.4f} "
        f"b={sel.platt[1]:.4f}; threshold {sel.threshold:.2f} (out-of-fold F1 at it {sel.f1:.3f}, optimistic: "
        "the threshold was tuned on these predictions)"
    )
    meta = {
        "trained_on": csv_path.name,
        "rows": len(rows),
        "csv_sha256_16": digest,
        "C": sel.params[0],
        "dense_scale": sel.params[1],
        "platt": [round(sel.platt[0], 6), round(sel.platt[1], 6)],
        "lodo_f1": round(float(lodo.f1 or 0.0), 4),
        "lodo_precision": round(float(lodo.precision or 0.0), 4),
        "lodo_recall": round(float(lodo.recall or 0.0), 4),
        "sklearn": sklearn.__version__,
        "seed": SEED,
    }
    timing_line = in_sample_line = ""
    if not args.no_write:
        out = Path(args.out)
        export(data, sel, out, meta)
        model = ComplaintModel.load(out)
        print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(model.weights)} hashed weights)")
        in_sample = [model.score(r.text, score_sentiment(r.text)).is_complaint for r in rows]
        in_sample_line = "In-sample (the training data itself, optimistic): " + _prf(
            counts_by_domain(rows, in_sample)[-1]
        )
        print(in_sample_line)
        dense = sorted(zip(DENSE_NAMES, model.dense_weights), key=lambda kv: -abs(kv[1]))
        print("dense weights (calibrated log-odds per unit): " + ", ".join(f"{k} {w:+.2f}" for k, w in dense))
        timing = benchmark_scorer([r.text for r in rows], rounds=5, model=model)
        timing_line = (
            f"Timing on the {timing.texts} dev texts (best of {timing.rounds} passes, one core): VADER "
            f"{timing.vader_us:.1f} µs/text, complaint scorer {timing.complaint_us:.1f} µs/text "
            f"({timing.ratio:.0%} of VADER's time)"
        )
        print(timing_line)

    if args.docs:
        section = [
            DOCS_START,
            f"_Generated by `scripts/train_complaints.py` from {csv_path.name} ({len(rows)} rows, sha256 "
            f"{digest}…, scikit-learn {sklearn.__version__}); do not edit by hand._",
            "",
            "**Nested leave-one-domain-out** (folds = the four brand domains; random_tweet rows spread over them; "
            "overall = pooled held-out predictions), VADER-only baseline (compound ≤ -0.05) on the same rows:",
            "",
            table,
            "",
            "Chosen per fold on the training folds only:",
            "",
            *[f"- {n}" for n in notes],
            "",
            nohandle_line + ".",
            "",
        ]
        if strict_text:
            section += ["**Strict protocol** (random_tweet also held out as a whole, so that fold's model never saw "
                        "a non-brand tweet):", "", strict_text, ""]
        if ablation_text:
            section += ["**Ablations** (same nested LODO):", "", ablation_text, ""]
        section += [
            f"Shipped model: C={sel.params[0]:g}, dense_scale={sel.params[1]:g}, Platt a={sel.platt[0]:.4f} "
            f"b={sel.platt[1]:.4f}, threshold **{sel.threshold:.2f}** (F1-maximising on the out-of-fold scores).",
            "",
        ]
        if in_sample_line:
            section += [in_sample_line + ".", "", timing_line + ".", ""]
        section.append(DOCS_END)
        docs = Path(args.docs)
        text = docs.read_text(encoding="utf-8") if docs.exists() else ""
        block = "\n".join(section)
        if DOCS_START in text and DOCS_END in text:
            before, rest = text.split(DOCS_START, 1)
            text = before + block + rest.split(DOCS_END, 1)[1]
        else:
            text = text + ("\n" if text else "") + block + "\n"
        docs.write_text(text, encoding="utf-8")
        print(f"updated {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
