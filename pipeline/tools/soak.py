"""The soak run (`python scripts/soak.py`, not part of `make test`): two workers on a scratch stack take a steady
stream of mentions for a long time, and every minute the run records each worker's resident memory, the
ClickHouse table sizes and the consumer groups' lag, so that a leak or a backlog that grows shows as a trend.

`summarise` turns the samples into the verdict docs/guarantees.md reports: memory growth over the second half of
the run (after warm-up), and the lag's trend (the largest lag in the last third against the first third).
"""
from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import msgspec

from pipeline.settings import Settings

TABLE_SIZES_SQL = """
SELECT table, sum(rows), sum(bytes_on_disk)
FROM system.parts
WHERE active AND database = currentDatabase() AND table IN ('mentions', 'alerts', 'identities', 'prospect_links')
GROUP BY table
ORDER BY table
"""


class Sample(msgspec.Struct):
    minute: float
    produced: int
    rss_mb: list[float]  # per worker
    state_mb: list[float]  # per worker: encoded bytes in its stage tables (socialpulse_table_bytes)
    mentions_rows: int  # ClickHouse `mentions` rows (unmerged versions included)
    table_mb: dict[str, float]
    lag: dict[str, int]  # consumer group → messages not yet committed (all its topics)
    drained: bool = False  # taken after the producer stopped and the pipeline drained


class Verdict(msgspec.Struct):
    minutes: float
    rate: float
    samples: int
    rss_start_mb: list[float]  # per worker, at the first sample of the second half
    rss_end_mb: list[float]
    rss_growth_pct: float  # the largest of the workers' growth over the second half
    state_growth_mb: list[float]  # per worker: growth of its table state over the second half
    other_growth_pct: float  # the largest growth of RSS minus table state over the second half
    lag_first_third_max: int
    lag_last_third_max: int
    lag_final: int  # after the producer stopped and the pipeline drained
    memory_flat: bool
    lag_flat: bool


def summarise(samples: Sequence[Sample], *, minutes: float, rate: float, lag_final: int,
              memory_tolerance_pct: float = 10.0) -> Verdict:
    """The verdict on a run. Memory is flat when, over the second half, no worker's memory *besides its table
    state* (RSS − socialpulse_table_bytes) grew by more than `memory_tolerance_pct`: the tables grow by design
    while their windows fill (per customer: the last 500 mention ids, the complaints of 30 days), a leak is what
    grows besides them. The lag is flat when its largest value in the last third is no larger than in the first
    third plus one second of input (lag sampled at a random point of a batch varies by about that much), and
    nothing is left after draining."""
    if len(samples) < 3:
        raise ValueError("a soak verdict needs at least 3 samples (minutes)")
    half = samples[len(samples) // 2:]
    start, end = half[0].rss_mb, half[-1].rss_mb

    def pct(a: float, b: float) -> float:
        return (b - a) / a * 100 if a else 0.0

    growth = max(pct(a, b) for a, b in zip(start, end))
    other = [(r - m, r2 - m2) for r, m, r2, m2 in zip(start, half[0].state_mb, end, half[-1].state_mb)]
    other_growth = max(pct(a, b) for a, b in other)
    third = max(1, len(samples) // 3)
    total = [sum(x.lag.values()) for x in samples]
    first, last = max(total[:third]), max(total[-third:])
    return Verdict(minutes=minutes, rate=rate, samples=len(samples), rss_start_mb=start, rss_end_mb=end,
                   rss_growth_pct=round(growth, 1),
                   state_growth_mb=[round(b - a, 1) for a, b in zip(half[0].state_mb, half[-1].state_mb)],
                   other_growth_pct=round(other_growth, 1), lag_first_third_max=first, lag_last_third_max=last,
                   lag_final=lag_final, memory_flat=other_growth <= memory_tolerance_pct,
                   lag_flat=last <= first + rate and lag_final == 0)


def markdown(samples: Sequence[Sample], verdict: Verdict) -> str:
    """The minute-by-minute table and the verdict, as docs/guarantees.md shows them."""
    tables = sorted({t for x in samples for t in x.table_mb})
    head = ["minute", "produced", "RSS worker 1 / 2 (MB)", "table state 1 / 2 (MB)", "mentions rows",
            *(f"{t} MB" for t in tables), "lag"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for x in samples:
        row = [f"{x.minute:.1f}" + (" (drained)" if x.drained else ""), f"{x.produced:,}",
               " / ".join(f"{r:.0f}" for r in x.rss_mb), " / ".join(f"{m:.1f}" for m in x.state_mb),
               f"{x.mentions_rows:,}",
               *(f"{x.table_mb.get(t, 0.0):.1f}" for t in tables), f"{sum(x.lag.values()):,}"]
        out.append("| " + " | ".join(row) + " |")
    v = verdict
    out += ["", f"{v.minutes:.0f} min at {v.rate:,.0f} mentions/s, 2 workers: RSS over the second half "
                f"{' / '.join(f'{a:.0f}→{b:.0f}' for a, b in zip(v.rss_start_mb, v.rss_end_mb))} MB "
                f"(largest growth {v.rss_growth_pct:+.1f} %), of which table state "
                f"{' / '.join(f'{g:+.1f}' for g in v.state_growth_mb)} MB; memory besides the tables "
                f"{v.other_growth_pct:+.1f} % ({'flat' if v.memory_flat else 'GROWING'}); lag: largest "
                f"{v.lag_first_third_max:,} in the first third, {v.lag_last_third_max:,} in the last, {v.lag_final:,} "
                f"after draining ({'no growth' if v.lag_flat else 'GROWING'})."]
    return "\n".join(out)


def table_bytes(metrics_text: str) -> int:
    """Sum of `socialpulse_table_bytes` over the stage tables in a worker's /metrics text."""
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("socialpulse_table_bytes{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def _state_mb(host: str, port: int) -> float:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as r:
            return round(table_bytes(r.read().decode()) / 2**20, 1)
    except OSError:
        return 0.0


def _sample(s: Settings, c: Any, started: float, produced: int, pids: list[int], ports: list[int]) -> Sample:
    from pipeline.adapters.kafka.admin import group_lag
    from pipeline.tools.bench.run import peak_rss_mb

    rows = c.execute(TABLE_SIZES_SQL)
    return Sample(minute=round((time.monotonic() - started) / 60, 2), produced=produced,
                  rss_mb=[round(peak_rss_mb(pid, "VmRSS"), 1) for pid in pids],
                  state_mb=[_state_mb(s.worker_host, port) for port in ports],
                  mentions_rows=int(next((r[1] for r in rows if r[0] == "mentions"), 0)),
                  table_mb={t: round(b / 2**20, 1) for t, _, b in rows},
                  lag={g: sum(t.values()) for g, t in group_lag(s).items()})


def run_soak(base: Settings, echo: Callable[[str], None], *, minutes: float = 20.0, rate: float = 1000.0,
             workers: int = 2, every_s: float = 60.0, keep: bool = False) -> tuple[list[Sample], Verdict]:
    """The whole run on a scratch stack (see the module docstring)."""
    from pipeline.adapters.clickhouse.client import client
    from pipeline.domain.mention import Rejected, decode_mention
    from pipeline.ops.customers import load_customers
    from pipeline.ops.drain import wait_drained
    from pipeline.ops.services.process import free_port
    from pipeline.ops.stack import Stack
    from pipeline.tools.bench.latency import send_paced
    from pipeline.tools.bench.run import _bench_settings, group_members
    from pipeline.tools.sample.generator import iter_lines, sample_dir

    scratch = Path(tempfile.mkdtemp(prefix="socialpulse-soak-"))
    s = _bench_settings(base, scratch)
    docs: list[dict] = []
    for line in iter_lines(sample_dir() / "mentions.jsonl.gz"):
        try:
            decode_mention(line)
        except Rejected:
            continue
        docs.append(msgspec.json.decode(line))
    stack = Stack(s)
    extra = [Stack(dataclasses.replace(s, worker_port=free_port(), data_dir=scratch / f"worker-{i}"))
             for i in range(2, workers + 1)]
    samples: list[Sample] = []
    try:
        echo("starting embedded Kafka + ClickHouse and the workers (scratch dir) …")
        stack.up(lambda _l: None, worker=False)
        load_customers(s, sample_dir() / "customers.jsonl.gz", progress=False)
        pids = [stack.start_worker()] + [st.start_worker() for st in extra]
        ports = [s.worker_port] + [st.s.worker_port for st in extra]
        deadline = time.monotonic() + 120
        while group_members(s) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {workers} workers did not all get partitions within 120 s")
            time.sleep(0.5)
        total = int(minutes * 60 * rate)
        from kafka import KafkaProducer

        from pipeline.adapters.kafka.config import kafka_python_config

        producer = KafkaProducer(**kafka_python_config(s), acks="all", linger_ms=20)
        prefix = "soak-" + uuid.uuid4().hex[:6]
        sender = threading.Thread(target=send_paced, args=(producer, docs, total, rate, prefix, "soak"),
                                  kwargs={"author_suffix": ""}, daemon=True, name="soak-producer")
        started = time.monotonic()
        sender.start()
        c = client(s)
        echo(f"producing {total:,} mentions at {rate:,.0f}/s for {minutes:.0f} min; a sample every {every_s:.0f} s")
        next_at = started + every_s
        while sender.is_alive():
            sender.join(timeout=max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= next_at:
                produced = min(total, int((time.monotonic() - started) * rate))
                samples.append(_sample(s, c, started, produced, pids, ports))
                x = samples[-1]
                echo(f"  {x.minute:5.1f} min  produced {x.produced:>9,}  RSS {' / '.join(f'{r:.0f}' for r in x.rss_mb)} MB"
                     f"  state {' / '.join(f'{m:.1f}' for m in x.state_mb)} MB  rows {x.mentions_rows:>9,}"
                     f"  lag {sum(x.lag.values()):>7,}")
                next_at += every_s
        producer.flush()
        producer.close()
        echo("producer done; draining …")
        left = wait_drained(s, timeout=600)
        samples.append(msgspec.structs.replace(_sample(s, c, started, total, pids, ports), drained=True))
        c.disconnect()
        verdict = summarise(samples[:-1] or samples, minutes=minutes, rate=rate, lag_final=sum(left.values()))
        return samples, verdict
    finally:
        for st in extra:
            st.worker.terminate(30)
        if not keep:
            stack.down(lambda _l: None)


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    from pipeline.settings import load_settings

    ap = argparse.ArgumentParser(description="Soak: two workers at a steady rate for a long time; RSS, table "
                                             "sizes and lag every minute (docs/guarantees.md, 'Soak').")
    ap.add_argument("--minutes", type=float, default=20.0, help="how long to produce (default 20)")
    ap.add_argument("--rate", type=float, default=1000.0, help="mentions per second (default 1000)")
    ap.add_argument("--workers", type=int, default=2, help="workers in the group (default 2)")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between samples (default 60)")
    ap.add_argument("--json", type=Path, help="also write the samples and the verdict to this JSON file")
    args = ap.parse_args(argv)
    samples, verdict = run_soak(load_settings(), print, minutes=args.minutes, rate=args.rate,
                                workers=args.workers, every_s=args.every)
    print(markdown(samples, verdict))
    if args.json:
        args.json.write_bytes(msgspec.json.encode({"samples": samples, "verdict": verdict}))
    return 0 if verdict.memory_flat and verdict.lag_flat else 1
