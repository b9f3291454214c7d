"""`socialpulse bench --analytics`: the dashboard, the customer page and the analyst questions on a year of data (I/O).

Starts a scratch embedded ClickHouse (own data dir, free ports, its own password; the user's data is never
touched), applies the migrations, fills it with the synthetic year of `pipeline.tools.bench.year` through the
sink's writer (`ClickHouseWriter`: the supported write path, one insert per sink-sized batch, so many parts; a
share of the batches written a second time as a replay leaves them: the same rows with a newer version under a new
dedup token), then times every call of `pipeline.tools.bench.analytics_calls` `repeat` times (the first run is a
discarded warm-up) and returns one `AnalyticsResult`."""
from __future__ import annotations

import asyncio
import collections
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

import msgspec

from pipeline.settings import Settings
from pipeline.tools.bench.analytics_calls import Call, analyst_calls, customer_page_calls, dashboard_calls
from pipeline.tools.bench.latency import percentile
from pipeline.tools.bench.year import (BRANDS, YearShape, customer_identities, generate_batch, replay_copy,
                                       replayed_batches, year_end)

CRM_CHUNK = 5000  # customers per `customers.identities` batch


class CallTiming(msgspec.Struct):
    """One call's wall time as clickhouse-driver sees it (send → last row received), over `runs` timed runs."""

    group: str  # dashboard | customer_page | analyst
    name: str
    p50_ms: float
    p95_ms: float
    rows: int  # rows the call returned (last run)
    runs: int


class AnalyticsResult(msgspec.Struct):
    """The JSON of `socialpulse bench --analytics --json` (field names are a contract: docs/benchmarks.md)."""

    mentions: int  # distinct mentions generated
    alerts: int
    alert_actions: int
    verdicts: int
    customers: int
    identities: int  # CRM identities (customers' handles)
    prospects: int  # distinct prospect authors seen
    batches: int  # mention inserts of the first delivery
    replayed_batches: int
    duplicate_mention_rows: int  # rows written a second time by the replays
    duplicate_alert_rows: int
    mention_rows_stored: int  # count() FROM mentions after the fill (duplicates not merged away yet included)
    mentions_distinct: int  # count() FROM mentions FINAL
    alert_rows_stored: int
    alerts_distinct: int
    mention_parts: int  # active parts of `mentions` when the timing started
    alert_parts: int
    fill_seconds: float
    fill_mentions_per_s: float
    repeat: int  # runs per call, the first discarded
    customer_id: str  # the customer of the customer page (the most active)
    prospect_id: str  # the prospect of the customer page (the most active)
    year_start: str
    year_end: str
    calls: list[CallTiming]
    pages: list[CallTiming]  # whole pages: the calls of one page load, run concurrently as the server does
    machine: str
    measured_at: str
    # mentions/s over the first and the last tenth of the fill: a write path that slows as the tables grow shows
    fill_first_tenth_mentions_per_s: float = 0.0
    fill_last_tenth_mentions_per_s: float = 0.0
    # how the year was written: `writer` (the sink's ClickHouseWriter, batches of batch_size) or `sql` (INSERT …
    # SELECT in ClickHouse, pipeline.tools.bench.year_sql: `batches` are its chunk inserts, `replayed_batches` its
    # replay inserts); with sql, fill_seconds includes the rollup rebuild the refresher would have done
    fill_mode: str = "writer"
    rollup_rebuild_seconds: float = 0.0


def tenth_rates(marks: list[tuple[float, int]]) -> tuple[float, float]:
    """(time, mentions written so far) marks of a fill, the first one at 0 mentions → mentions/s over the first
    tenth and over the last tenth of the mentions (each measured from mark to mark, so a little over a tenth)."""
    if len(marks) < 2 or marks[-1][1] <= 0:
        return 0.0, 0.0
    total = marks[-1][1]
    t0, n0 = marks[0]
    t1, n1 = next(m for m in marks if m[1] >= total / 10)
    t2, n2 = [m for m in marks if m[1] <= total * 9 / 10][-1]
    tn, nn = marks[-1]
    return (round((n1 - n0) / max(t1 - t0, 1e-6), 1), round((nn - n2) / max(tn - t2, 1e-6), 1))


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, int, int]:
    """Run `fn` `repeat` times (at least 2) and discard the first (warm-up); returns (p50 ms, p95 ms, rows of the
    last run, timed runs)."""
    repeat = max(2, repeat)
    times, rows = [], 0
    for i in range(repeat):
        started = time.perf_counter()
        out = fn()
        took = (time.perf_counter() - started) * 1000
        rows = len(out) if isinstance(out, (list, tuple)) else int(bool(out))
        if i:
            times.append(took)
    return round(percentile(times, 50), 1), round(percentile(times, 95), 1), rows, len(times)


def time_calls(c, calls: list[Call], repeat: int, echo: Callable[[str], None]) -> list[CallTiming]:
    """Each call run `repeat` times through the client `c`."""
    out = []
    for call in calls:
        p50, p95, rows, runs = timed(lambda: c.execute(call.sql, dict(call.params)), repeat)
        echo(f"   {call.group:<13} {call.name:<48} p50 {p50:>9,.1f} ms  p95 {p95:>9,.1f} ms  rows {rows:,}")
        out.append(CallTiming(call.group, call.name, p50, p95, rows, runs))
    return out


def fill(s: Settings, shape: YearShape, progress: bool, writers: int = 2) -> dict[str, int]:
    """Write the year through the sink's writer: the CRM first (as `customers load` then the worker's identity
    stage would), then each batch's mentions, the prospects it met, its alerts, the actions on them and verdicts;
    replayed batches a second time. A thread generates batches ahead (a queue of a few); `writers` threads write
    them (the writer keeps one connection per thread), so Python work overlaps the server's."""
    from pipeline.adapters.clickhouse.writer import ClickHouseWriter
    from pipeline.domain.mention import to_iso
    from pipeline.ops.progress import progress_bar

    writer = ClickHouseWriter(s)
    counts = collections.Counter(alerts=0, alert_actions=0, verdicts=0, identities=0, duplicate_mention_rows=0,
                                 duplicate_alert_rows=0)
    prospects: set[str] = set()
    replays = replayed_batches(shape)
    lock = threading.Lock()
    marks: list[tuple[float, int]] = []  # (time, mentions written), for tenth_rates
    crm_at = to_iso(shape.start)
    ahead: "queue.Queue" = queue.Queue(maxsize=2 * writers + 2)
    stop = threading.Event()  # Ctrl-C or a failed writer: the generator and the other writers give up

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def take():
        while not stop.is_set():
            try:
                return ahead.get(timeout=0.2)
            except queue.Empty:
                continue
        return None

    def produce() -> None:
        for b in range(shape.batches):
            if not put(generate_batch(shape, b)):
                return
        for _ in range(writers):
            put(None)

    def write(bar) -> None:
        try:
            _write_all(bar)
        except BaseException:
            stop.set()
            raise

    def _write_all(bar) -> None:
        while (batch := take()) is not None:
            token = f"year-{shape.seed}-{batch.index}"
            writer.insert_mentions(batch.mentions, token)
            writer.upsert_prospects(batch.prospects, token)
            writer.insert_alerts(batch.alerts, token)
            writer.apply_actions(batch.actions, token)
            writer.insert_feedback(batch.verdicts, token)
            done = collections.Counter(alerts=len(batch.alerts), alert_actions=len(batch.actions),
                                       verdicts=len(batch.verdicts))
            if batch.index in replays:  # a redelivery after a crash: the same rows, processed again
                done["duplicate_mention_rows"] = writer.insert_mentions(replay_copy(batch), token + "-replay")
                done["duplicate_alert_rows"] = writer.insert_alerts(batch.alerts, token + "-replay")
            with lock:
                counts.update(done)
                prospects.update(k for k, _ in batch.prospects)
                marks.append((time.perf_counter(), marks[-1][1] + len(batch.mentions)))
            bar.advance(len(batch.mentions))

    try:
        for first in range(0, shape.customers, CRM_CHUNK):
            items = customer_identities(shape, first, CRM_CHUNK, crm_at)
            counts["identities"] += writer.upsert_identities(items, f"year-crm-{first}")
        threading.Thread(target=produce, name="year-generator", daemon=True).start()
        marks.append((time.perf_counter(), 0))
        with progress_bar("filling a year", shape.mentions, enabled=progress) as bar:
            with ThreadPoolExecutor(writers, thread_name_prefix="year-writer") as pool:
                try:
                    for f in [pool.submit(write, bar) for _ in range(writers)]:
                        f.result()
                except BaseException:
                    stop.set()
                    raise
    finally:
        stop.set()
        writer.close()
    first, last = tenth_rates(marks)
    return {**counts, "prospects": len(prospects), "fill_first_tenth_mentions_per_s": first,
            "fill_last_tenth_mentions_per_s": last}


_fill_writer = fill  # run_analytics' `fill` argument names the mode
FILL_MODES = ("writer", "sql")


def busiest(c, prospect: bool) -> str:
    """The customer (or prospect) id with the most mentions."""
    return c.execute("SELECT customer_id FROM mentions WHERE is_prospect = %(p)s GROUP BY customer_id "
                     "ORDER BY count() DESC, customer_id LIMIT 1", {"p": prospect})[0][0]


def handle_of(c, person_id: str) -> str:
    rows = c.execute("SELECT handle FROM identities FINAL WHERE customer_id = %(id)s ORDER BY identity_key LIMIT 1",
                     {"id": person_id})
    return rows[0][0] if rows else person_id


def time_pages(s: Settings, customer_id: str, prospect_id: str, repeat: int) -> list[CallTiming]:
    """Whole page loads as the dashboard server runs them (`Queries`: concurrent queries in threads): the
    customer page's `profile` for the customer and the prospect, and the live page's first load (alerts with
    verdicts, KPIs, sentiment chart)."""
    from pipeline.web.api import (KPI_ALERTS_SQL, KPI_MENTIONS_SQL, SENTIMENT_SQL, SNAPSHOT_LIMIT, SNAPSHOT_SQL,
                                  Queries, add_verdicts, alert_view_from_row)
    from pipeline.web.customers import profile

    runner = Queries(s)
    loop = asyncio.new_event_loop()

    async def live_page() -> list:
        rows = await runner.execute(SNAPSHOT_SQL, {"limit": SNAPSHOT_LIMIT})
        views = [alert_view_from_row(r) for r in rows]
        await asyncio.gather(add_verdicts(runner, views), runner.execute(KPI_MENTIONS_SQL, {"brand": ""}),
                             runner.execute(KPI_ALERTS_SQL, {"brand": ""}),
                             runner.execute(SENTIMENT_SQL, {"hours": 24, "brand": ""}))
        return views

    pages = [("live page: alerts + KPIs + sentiment", live_page),
             ("customer page (customer)", lambda: profile(runner, customer_id)),
             ("customer page (prospect)", lambda: profile(runner, prospect_id))]
    out = []
    try:
        for name, page in pages:
            p50, p95, rows, runs = timed(lambda: loop.run_until_complete(page()), repeat)
            out.append(CallTiming("page", name, p50, p95, rows, runs))
    finally:
        runner.close()
        loop.close()
    return out


def run_analytics(base: Settings, echo: Callable[[str], None], *, mentions: int, repeat: int = 5,
                  progress: bool = True, keep: bool = False, seed: int = 25, batch_size: int = 2000,
                  end: Optional[datetime] = None, fill: str = "writer") -> AnalyticsResult:
    """The whole run; see the module docstring. `keep` leaves the scratch server running with its data. `fill`:
    `writer` (the sink's writer) or `sql` (the same year generated in ClickHouse, pipeline.tools.bench.year_sql)."""
    from pipeline.adapters.clickhouse.client import client
    from pipeline.adapters.clickhouse.migrations import apply_migrations
    from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
    from pipeline.tools.bench.run import _bench_settings, machine_description

    if fill not in FILL_MODES:
        raise ValueError(f"fill must be one of {', '.join(FILL_MODES)}, not {fill!r}")
    shape = YearShape(mentions=mentions, end=end or year_end(), seed=seed, batch_size=batch_size)
    batches, replays = shape.batches, len(replayed_batches(shape))
    if fill == "sql":
        from pipeline.tools.bench.year_sql import CHUNK_ROWS, chunks, fill_sql, replay_ranges

        inserts = chunks(mentions, CHUNK_ROWS)
        batches, replays = len(inserts), sum(bool(replay_ranges(shape, lo, hi)) for lo, hi in inserts)
    scratch = Path(tempfile.mkdtemp(prefix="socialpulse-analytics-"))
    s = _bench_settings(base, scratch)
    server = EmbeddedClickHouse(s)
    try:
        echo(f"1/3 scratch ClickHouse in {scratch} (127.0.0.1:{s.clickhouse_port}), migrations …")
        server.start()
        apply_migrations(s)
        unit = f"batches of {shape.batch_size:,}" if fill == "writer" else f"INSERT … SELECT chunks of {CHUNK_ROWS:,}"
        echo(f"2/3 filling {mentions:,} mentions over {shape.days} days ({shape.customers:,} customers, {unit}, "
             f"{replays} replayed; fill {fill}) …")
        started = time.perf_counter()
        if fill == "sql":
            counts = fill_sql(s, shape, progress, CHUNK_ROWS, echo=echo, rates=tenth_rates)
        else:
            counts = _fill_writer(s, shape, progress)
        fill_s = time.perf_counter() - started
        c = client(s, send_receive_timeout=3600)
        try:
            stored = _stored(c)
            cid, pid = busiest(c, False), busiest(c, True)
            echo(f"3/3 timing every call {repeat}× (first discarded) — customer {cid}, prospect {pid} …")
            snapshot_ids = [r[0] for r in c.execute("SELECT alert_id FROM alerts FINAL WHERE status IN "
                                                    "('open', 'acked') ORDER BY created_at DESC LIMIT 100")]
            now = datetime.now(timezone.utc)
            calls = dashboard_calls(now, BRANDS[0], snapshot_ids)
            for who, person in (("customer", cid), ("prospect", pid)):
                linked = [r[0] for r in c.execute("SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = "
                                                  "%(id)s AND prospect_id != ''", {"id": person})]
                calls += customer_page_calls(who, person, linked, handle_of(c, person))
            calls += analyst_calls(shape.end, BRANDS[0], cid)
            timings = time_calls(c, calls, repeat, echo)
        finally:
            c.disconnect()
        pages = time_pages(s, cid, pid, repeat)
    finally:
        if not keep:
            server.stop()
            shutil.rmtree(scratch, ignore_errors=True)
    return AnalyticsResult(
        mentions=mentions, customers=shape.customers, batches=batches, replayed_batches=replays, fill_mode=fill, **counts, **stored, fill_seconds=round(fill_s, 1),
        fill_mentions_per_s=round(mentions / max(fill_s, 1e-6), 1), repeat=repeat, customer_id=cid, prospect_id=pid,
        year_start=shape.start.isoformat(), year_end=shape.end.isoformat(), calls=timings, pages=pages,
        machine=machine_description(), measured_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def _stored(c) -> dict[str, int]:
    def one(sql: str) -> int:
        return int(c.execute(sql)[0][0])

    parts = "SELECT count() FROM system.parts WHERE database = currentDatabase() AND active AND table = '{}'"
    return dict(mention_rows_stored=one("SELECT count() FROM mentions"),
                mentions_distinct=one("SELECT count() FROM mentions FINAL"),
                alert_rows_stored=one("SELECT count() FROM alerts"),
                alerts_distinct=one("SELECT count() FROM alerts FINAL"),
                mention_parts=one(parts.format("mentions")), alert_parts=one(parts.format("alerts")))


def render_analytics(r: AnalyticsResult) -> str:
    """The human table: one row per call and page, then what was filled."""
    lines = ["| group | call | p50 ms | p95 ms | rows |", "|---|---|---:|---:|---:|"]
    for t in [*r.pages, *r.calls]:
        lines.append(f"| {t.group} | {t.name} | {t.p50_ms:,.1f} | {t.p95_ms:,.1f} | {t.rows:,} |")
    lines.append("")
    lines.append(f"Filled {r.mentions:,} mentions, {r.alerts:,} alerts, {r.alert_actions:,} actions, "
                 f"{r.customers:,} customers ({r.identities:,} identities), {r.prospects:,} prospects in "
                 f"{r.fill_seconds:,.0f} s ({r.fill_mentions_per_s:,.0f} mentions/s; first tenth "
                 f"{r.fill_first_tenth_mentions_per_s:,.0f}/s, last tenth {r.fill_last_tenth_mentions_per_s:,.0f}/s); "
                 f"fill {r.fill_mode}; {r.replayed_batches} of {r.batches} batches replayed ({r.duplicate_mention_rows:,} mention and "
                 f"{r.duplicate_alert_rows:,} alert rows twice); stored rows: mentions {r.mention_rows_stored:,} "
                 f"({r.mentions_distinct:,} distinct, {r.mention_parts} parts), alerts {r.alert_rows_stored:,} "
                 f"({r.alerts_distinct:,} distinct, {r.alert_parts} parts). Year {r.year_start} … {r.year_end}; runs per call {r.repeat} "
                 f"(first discarded). Machine: {r.machine}. Measured {r.measured_at}.")
    return "\n".join(lines) + "\n"
