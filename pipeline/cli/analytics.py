"""`socialpulse analytics …`: the dirty-day rollups behind the KPI views (docs/analytics.md), registered on
`pipeline.cli.main`."""
from __future__ import annotations

import json

import click

from pipeline.cli import CONTEXT, common_options, main
from pipeline.settings import Settings


@main.group(context_settings=CONTEXT)
def analytics() -> None:
    """The rollups behind the KPI views and analyst questions (docs/analytics.md)."""


@analytics.command("rebuild", context_settings=CONTEXT)
@common_options
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
@click.option("--settle", type=click.FloatRange(min=0), default=None,
              help="Seconds a day must have been quiet to be made clean (default: the refresher's margin, "
                   "SOCIALPULSE_ROLLUP_SETTLE_SECONDS or 120). Days written more recently are rebuilt too but stay "
                   "dirty (read from the base table) until the refresher takes them.")
@click.option("--skip-copies", is_flag=True,
              help="Only the rollups: do not write the base rows into the customer-, handle- and unresolved-ordered "
                   "copies again.")
def analytics_rebuild(s: Settings, progress: bool, settle: float | None, skip_copies: bool) -> None:
    """Rebuild every derived table from the base tables, for restores and upgrades: first the copies kept by
    materialized views (mentions_by_customer, alerts_by_customer, alerts_unresolved, identities_by_handle: base rows
    written again, which merges collapse with what is there), then the day and hour rollups (mentions_daily,
    mentions_hourly) of every day. Safe while the pipeline runs, and the views are exact throughout: a day is read
    from the base table until it is rebuilt. Days older than the rows retention (SOCIALPULSE_RETENTION_ROWS_DAYS)
    keep their rollups as they are."""
    from pipeline.adapters.clickhouse.client import client
    from pipeline.adapters.clickhouse.copies import copy_all, rows_to_copy
    from pipeline.adapters.clickhouse.rollups import rebuild, rebuild_days, retention_horizon
    from pipeline.ops.progress import progress_bar
    from pipeline.runtime.rollup_refresher import refresher_config

    config = refresher_config(s)
    c = client(s, send_receive_timeout=24 * 3600)
    try:
        if not skip_copies:
            with progress_bar("copies (rows)", sum(rows_to_copy(c).values()), progress) as bar:
                copied = copy_all(c, lambda table, n: bar.advance(n))
            click.echo("copied " + ", ".join(f"{t} {n:,} rows" for t, n in copied.items()))
        oldest = retention_horizon(getattr(s, "retention_rows_days", 0))
        days = rebuild_days(c, oldest)
        with progress_bar("rollups", len(days), progress) as bar:
            done = rebuild(c, lambda day, i, n: bar.advance(), days=days, oldest=oldest,
                           settle_seconds=config.settle_seconds if settle is None else settle)
    finally:
        c.disconnect()
    click.echo(f"rebuilt the rollups of {done} of {len(days)} days"
               + (f" (from {oldest}: older days kept as they are)" if oldest else ""))
    if done < len(days):
        click.echo(f"{len(days) - done} days were postponed while a mutation of mentions ran; the refresher "
                   "recomputes them (until then they are read from the base table)")


@analytics.command("status", context_settings=CONTEXT)
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def analytics_status(s: Settings, as_json: bool) -> None:
    """How many days the views read from the rollups (clean) and from the base table (dirty)."""
    from pipeline.adapters.clickhouse.client import client
    from pipeline.adapters.clickhouse.rollups import status

    c = client(s)
    try:
        st = status(c)
    finally:
        c.disconnect()
    if as_json:
        click.echo(json.dumps(st, default=str))
        return
    click.echo(f"clean days (read from the rollups): {st['clean_days']}")
    click.echo(f"dirty days (read from the base table): {st['dirty_days']}"
               + (f", the oldest {st['oldest_dirty_day']}" if st["oldest_dirty_day"] else ""))
    if st["latest_refresh"]:
        click.echo(f"latest refresh: {st['latest_refresh']:%Y-%m-%d %H:%M:%S} UTC")
