"""`socialpulse demo`: the whole system on the bundled sample data, then a summary from ClickHouse (I/O)."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Optional

from pipeline.ops.stack import Stack
from pipeline.settings import Settings

SUMMARY_SQL = {
    "totals": """
        SELECT uniqExact(mention_id), countIf(NOT is_prospect), uniqExactIf(customer_id, NOT is_prospect),
               uniqExactIf(customer_id, is_prospect), countIf(is_complaint)
        FROM mentions FINAL""",
    "alerts": "SELECT type, count() FROM alerts FINAL GROUP BY type ORDER BY count() DESC",
    "brands": """
        SELECT brand, count() AS n, round(countIf(sentiment_label = 'negative') / n, 3) AS negative_share,
               countIf(is_complaint) AS complaints
        FROM mentions FINAL WHERE brand != '' GROUP BY brand ORDER BY negative_share DESC LIMIT 5""",
    "spikes": """
        SELECT brand, window_start, severity, reasons[1]
        FROM alerts FINAL WHERE type = 'spike' ORDER BY window_start LIMIT 10""",
}


def summary_tables(s: Settings):
    """Rich tables with the demo's headline numbers, read from ClickHouse."""
    from rich.table import Table

    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    try:
        mentions, matched, customers, prospects, complaints = c.execute(SUMMARY_SQL["totals"])[0]
        alerts = c.execute(SUMMARY_SQL["alerts"])
        brands = c.execute(SUMMARY_SQL["brands"])
        spikes = c.execute(SUMMARY_SQL["spikes"])
    finally:
        c.disconnect()
    totals = Table(title="socialpulse demo — what landed in ClickHouse", show_header=False)
    for label, value in (("mentions", mentions), ("mentions from known customers", matched),
                         ("customers matched", customers), ("prospects (unknown authors)", prospects),
                         ("complaints", complaints)):
        totals.add_row(label, f"{value:,}")
    by_type = Table(title="alerts by type")
    by_type.add_column("type")
    by_type.add_column("alerts", justify="right")
    for kind, n in alerts:
        by_type.add_row(kind, f"{n:,}")
    top = Table(title="brands by negative share")
    for col in ("brand", "mentions", "negative share", "complaints"):
        top.add_column(col, justify="left" if col == "brand" else "right")
    for brand, n, share, comp in brands:
        top.add_row(brand, f"{n:,}", f"{share:.1%}", f"{comp:,}")
    spike_table = Table(title="spike alerts")
    for col in ("brand", "hour (UTC)", "severity", "why"):
        spike_table.add_column(col, overflow="fold")
    for brand, hour, severity, why in spikes:
        spike_table.add_row(brand, hour.strftime("%Y-%m-%d %H:00") if hour else "", severity, why)
    return totals, by_type, top, spike_table


def install_sample_brands(s: Settings, sample: Path, echo: Callable[[str], None], *, worker_running: bool) -> None:
    """Copy the sample's brands.yml to `<data_dir>/brands.yml` when the data dir has none and no
    SOCIALPULSE_BRANDS_FILE is set (the worker reads it at start). Quietly nothing if the sample has none."""
    source, target = sample / "brands.yml", Path(s.data_dir) / "brands.yml"
    if s.brands_file or target.exists() or not source.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    echo(f"brands      {target} (the sample's brands)")
    if worker_running:
        echo("            the running worker read its brands at start: `socialpulse down` and run the demo again "
             "to use these")


def latest_mentions(path: Path, n: int = 20) -> list[tuple[str, datetime]]:
    """(mention_id, created_at) of the `n` valid mentions of `path` with the latest `created_at`."""
    import heapq

    from pipeline.codec import decode
    from pipeline.contract.records import RawMention
    from pipeline.ops.replay import created_at_of, messages

    found = []
    for _, _, value, problem in messages(path):
        ts = None if problem else created_at_of(value)
        if ts is not None:
            m = decode(value, RawMention)
            found.append((ts, f"{m.channel}:{m.id}"))
    return [(mid, ts) for ts, mid in heapq.nlargest(n, found)]


def loaded_shift(s: Settings, path: Path) -> Optional[timedelta]:
    """The shift the sample's mentions carry in ClickHouse from an earlier demo run (None: not loaded yet).

    Mentions are keyed by (brand, created_at, mention_id): replaying them with another shift would add a second row
    per mention instead of replacing it, so a re-run replays with the shift of the first run."""
    from collections import Counter

    from pipeline.adapters.clickhouse.client import client

    original = dict(latest_mentions(path))
    c = client(s)
    try:
        rows = c.execute("SELECT mention_id, max(created_at) FROM mentions FINAL WHERE mention_id IN %(ids)s "
                         "GROUP BY mention_id", {"ids": tuple(original)})
    finally:
        c.disconnect()
    hours = Counter(round((at.replace(tzinfo=timezone.utc) - original[mid]) / timedelta(hours=1))
                    for mid, at in rows)
    return timedelta(hours=hours.most_common(1)[0][0]) if hours else None


def run_demo(s: Settings, echo: Callable[[str], None], *, progress: bool = True,
             now: Optional[datetime] = None) -> None:
    """brands → up → customers load → replay (event times shifted to end in this hour) → drain → summary.

    Safe to re-run: identities and mentions keep their ids, and a re-run replays the sample with the shift of the
    first run, so it rewrites the same rows and raises no new alerts (docs/operations.md, "The demo")."""
    from rich.console import Console

    from pipeline.data import sample_dir
    from pipeline.ops.customers import load_customers
    from pipeline.ops.drain import wait_drained
    from pipeline.ops.replay import replay_file

    stack = Stack(s)
    s = stack.s  # with the embedded ClickHouse's password (generated on a fresh data dir)
    data = sample_dir()
    install_sample_brands(s, data, echo, worker_running=stack.worker.pid() is not None)
    stack.up(echo)
    echo(load_customers(s, data / "customers.jsonl.gz", progress=progress).render())
    mentions = data / "mentions.jsonl.gz"
    earlier = loaded_shift(s, mentions)
    if earlier is not None:
        echo(f"the sample is already loaded (shifted by {round(earlier / timedelta(hours=1))} h): replaying it with "
             "the same shift keeps its rows; for a demo that ends now, start from an empty data dir")
    echo(replay_file(s, mentions, progress=progress, offset=earlier,
                     shift_to=now or datetime.now(timezone.utc)).render())
    echo("waiting for the worker to drain …")
    lag = wait_drained(s, timeout=600, echo=echo)
    if lag:
        echo("warning: not fully drained: " + ", ".join(f"{t}={n}" for t, n in lag.items()))
    console = Console()
    for table in summary_tables(s):
        console.print(table)
    echo("")
    kept = Path(s.data_dir) / "run" / "clickhouse.password"
    password = f'"$(cat {kept})"' if kept.exists() else "<SOCIALPULSE_CLICKHOUSE_PASSWORD>"
    echo(f"ClickHouse:  clickhouse client --port {s.clickhouse_port} --user {s.clickhouse_user} --password {password} "
         f"(database {s.clickhouse_database}); HTTP http://127.0.0.1:{s.clickhouse_http_port}/play, same user")
    echo("Queries:     docs/queries.md")
    echo(f"Dashboard:   {stack.dashboard_url()}")
    echo("Stop:        socialpulse down")
