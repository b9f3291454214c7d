"""`socialpulse demo`: the whole system on the bundled sample data, then a summary from ClickHouse (I/O)."""
from __future__ import annotations

from typing import Callable

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
}


def summary_tables(s: Settings):
    """Rich tables with the demo's headline numbers, read from ClickHouse."""
    from rich.table import Table

    from pipeline.clickhouse import client

    c = client(s)
    try:
        mentions, matched, customers, prospects, complaints = c.execute(SUMMARY_SQL["totals"])[0]
        alerts = c.execute(SUMMARY_SQL["alerts"])
        brands = c.execute(SUMMARY_SQL["brands"])
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
    return totals, by_type, top


def run_demo(s: Settings, echo: Callable[[str], None], *, progress: bool = True) -> None:
    """up → customers load → replay → drain → summary. Safe to re-run: loads and replays are idempotent."""
    from rich.console import Console

    from pipeline.customers import load_customers
    from pipeline.drain import wait_drained
    from pipeline.replay import replay_file
    from pipeline.sample import sample_dir
    from pipeline.stack import Stack

    stack = Stack(s)
    stack.up(echo)
    data = sample_dir()
    echo(load_customers(s, data / "customers.jsonl.gz", progress=progress).render())
    echo(replay_file(s, data / "mentions.jsonl.gz", progress=progress).render())
    echo("waiting for the worker to drain …")
    lag = wait_drained(s, timeout=600, echo=echo)
    if lag:
        echo("warning: not fully drained: " + ", ".join(f"{t}={n}" for t, n in lag.items()))
    console = Console()
    for table in summary_tables(s):
        console.print(table)
    echo("")
    echo(f"ClickHouse:  clickhouse-client --port {s.clickhouse_port} (database {s.clickhouse_database}); "
         f"HTTP http://127.0.0.1:{s.clickhouse_http_port}/play")
    echo("Queries:     docs/queries.md")
    echo(f"Dashboard:   {stack.dashboard_url()}")
    echo("Stop:        socialpulse down")
