"""`socialpulse bench`'s result as the table of docs/benchmarks.md."""
from __future__ import annotations

import time
from pathlib import Path

from pipeline.tools.bench.latency import Latency
from pipeline.tools.bench.run import BenchResult


def _ms(lat: Latency) -> str:
    if lat.p50 is None or lat.p99 is None:
        return "n/a"
    return f"{lat.p50:.0f} / {lat.p99:.0f}"


def render_table(r: BenchResult) -> str:
    rows = [
        ("vader_only_per_s", f"{r.vader_only_per_s:,.0f}", "VADER polarity_scores alone, one process"),
        ("pipeline_per_s", f"{r.pipeline_per_s:,.0f}", "mentions.raw → rows in ClickHouse, one worker, pre-loaded"),
        ("ratio", f"{r.ratio:.2f}", "pipeline ÷ VADER alone"),
        ("faust_floor_per_s", f"{r.faust_floor_per_s or 0:,.0f}", "an empty faust agent on the same pre-loaded topic"),
        ("naive_faust_per_s", f"{r.naive_faust_per_s or 0:,.0f}", "the typical faust app: json + VADER + send per event"),
        ("ratio_to_floor", f"{r.ratio_to_floor or 0:.2f}", "pipeline ÷ empty faust agent (target ≥ 0.3)"),
        ("speedup_vs_naive", f"{r.speedup_vs_naive or 0:.1f}×", "pipeline ÷ typical faust app (target ≥ 5)"),
        ("alert_latency_ms p50 / p99", _ms(r.alert_latency_ms),
         f"produce → alert on alerts.complaints at {r.rate:,.0f}/s (target p99 < 500 at 1,000/s)"),
        ("queryable_latency_ms p50 / p99", _ms(r.queryable_latency_ms),
         f"produce → row visible in ClickHouse at {r.rate:,.0f}/s (target p99 < 1500 at 1,000/s)"),
        ("alert / queryable at half saturation p50 / p99",
         f"{_ms(r.alert_latency_at_half_ms or Latency(None, None))} · "
         f"{_ms(r.queryable_latency_at_half_ms or Latency(None, None))}",
         f"the same at {r.half_rate or 0:,.0f}/s (targets p99 < 500 / < 1500)"),
        ("worker peak RSS", f"{r.worker_peak_rss_mb:,.0f} MB", "VmHWM of the worker process"),
        ("identity recovery", f"{r.identity_recovery_s:.1f} s", f"{r.identities:,} identities from the compacted topic"),
        ("rss_1m_identities_mb", f"{r.rss_1m_identities_mb or 0:,.0f} MB",
         f"worker RSS holding {r.identities:,} identities (target < 400 MB for 1M)"),
        ("identity_links_per_s", f"{r.identity_links_per_s or 0:,.0f}/s", "CRM identities linked by the running worker"),
        ("complaint scorer", f"{r.complaint_scorer_us:.1f} µs", f"per mention, vs VADER {r.vader_us:.1f} µs"),
    ]
    if r.scale_out is not None:
        so = r.scale_out
        rows.append((f"scale-out, {so.workers} workers",
                     f"{so.per_s:,.0f}/s ({so.speedup:.2f}× one warm worker: {so.one_worker_per_s:,.0f}/s)",
                     f"{so.partitions} partitions, one consumer group; mentions scored per worker: "
                     + " / ".join(f"{n:,}" for n in so.split)))
    lines = ["| metric | value | what |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + f"\n\nMachine: {r.machine}. Mentions: {r.mentions:,} (bundled sample).\n"


def append_to_docs(r: BenchResult, path: Path = Path(__file__).resolve().parents[3] / "docs" / "benchmarks.md") -> None:
    """Append one dated result section to docs/benchmarks.md."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(path, "a") as fh:
        fh.write(f"\n### Run of {stamp}\n\n{render_table(r)}")
