"""`socialpulse` command line: each command is a thin call into a module of the package."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import click

from pipeline.settings import Settings, SettingsError, load_settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class UserError(click.ClickException):
    """A user mistake or an environment problem: printed as one line, exit 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: D102
        click.secho(f"error: {self.format_message()}", err=True, fg="red")


def common_options(fn: Callable) -> Callable:
    """Flags that override the most used SOCIALPULSE_* variables."""
    options = [
        click.option("--data-dir", type=click.Path(path_type=Path), help="Data dir [SOCIALPULSE_DATA_DIR]."),
        click.option("--kafka-bootstrap", help="Kafka bootstrap servers [SOCIALPULSE_KAFKA_BOOTSTRAP]."),
        click.option("--clickhouse-host", help="ClickHouse host [SOCIALPULSE_CLICKHOUSE_HOST]."),
        click.option("--clickhouse-port", type=int, help="ClickHouse TCP port [SOCIALPULSE_CLICKHOUSE_PORT]."),
        click.option("--log-level", help="debug, info, warn, error [SOCIALPULSE_LOG_LEVEL]."),
    ]
    for option in reversed(options):
        fn = option(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        overrides = {k: kwargs.pop(k) for k in ("data_dir", "kafka_bootstrap", "clickhouse_host", "clickhouse_port",
                                                "log_level")}
        try:
            settings = load_settings(**overrides)
        except SettingsError as exc:
            raise UserError(str(exc)) from None
        from pipeline.ops.logsetup import configure_logging

        configure_logging(settings)
        try:
            return fn(settings, *args, **kwargs)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - environment problems get one line, not a traceback
            from pipeline.adapters.errors import explain
            from pipeline.ops.services.process import LaunchError

            # a server unreachable, credentials refused, a certificate not trusted (an SSL error is a ValueError too)
            plain = (LaunchError, SettingsError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError)
            line = explain(exc, settings) or (str(exc) if isinstance(exc, plain) else None)
            if line:
                raise UserError(line) from None
            raise

    return wrapper


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="socialpulse", prog_name="socialpulse")
def main() -> None:
    """socialpulse: streaming social listening on Kafka, Faust, VADER and ClickHouse.

    Quick start: `socialpulse demo` (or `up`, `customers load`, `replay`, `dashboard`). Configuration comes
    from SOCIALPULSE_* environment variables (see `socialpulse config`); flags override them."""


# --- stack -------------------------------------------------------------------------------------------------------

@main.command(context_settings=CONTEXT)
@common_options
@click.option("--no-worker", is_flag=True, help="Start the servers, topics and migrations only.")
def up(s: Settings, no_worker: bool) -> None:
    """Start embedded Kafka + ClickHouse + one worker in the background, create topics, apply migrations.

    Idempotent: starts only what is not running. With external servers configured, starts only the worker."""
    from pipeline.ops.stack import Stack

    Stack(s).up(click.echo, worker=not no_worker)


@main.command(context_settings=CONTEXT)
@common_options
def down(s: Settings) -> None:
    """Stop the worker, then ClickHouse and Kafka (clean shutdown; data is kept in the data dir)."""
    from pipeline.ops.stack import Stack

    Stack(s).down(click.echo)


@main.command(context_settings=CONTEXT)
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def status(s: Settings, as_json: bool) -> None:
    """Show each component (running/stopped, address, pid). Exit 1 when something is down."""
    from pipeline.ops.stack import Stack

    rows = Stack(s).status()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows]))
    else:
        for r in rows:
            state = click.style("running", fg="green") if r.running else click.style("stopped", fg="red")
            kind = "embedded" if r.embedded else "external"
            click.echo(f"{r.name:<11} {state:<16} {r.address:<22} pid {r.pid or '-':<8} {kind}")
        if rows[0].running:
            from pipeline.adapters.kafka.admin import group_lag

            try:
                for group, lag in group_lag(s).items():
                    click.echo(f"{'lag':<11} {group:<16} " + (", ".join(f"{t}={n:,}" for t, n in sorted(lag.items())
                                                                      if n) or "none"))
            except Exception as exc:  # noqa: BLE001 - status still reports the components, then the reason
                from pipeline.adapters.errors import explain

                click.echo(f"{'lag':<11} unknown")
                raise UserError(explain(exc, s) or f"{type(exc).__name__}: {exc}") from None
    if not all(r.running for r in rows):
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@common_options
def worker(s: Settings) -> None:
    """Run one worker in the foreground (consumes mentions.raw … writes ClickHouse). Ctrl-C stops it cleanly."""
    from pipeline.ops.worker import run_worker

    run_worker(s)


@main.command(context_settings=CONTEXT)
@common_options
def migrate(s: Settings) -> None:
    """Apply pending ClickHouse migrations (schemas/clickhouse/NNN_*.sql). Re-running is a no-op."""
    from pipeline.adapters.clickhouse.migrations import apply_migrations

    applied = apply_migrations(s)
    click.echo("\n".join(f"applied {name}" for name in applied) if applied else "migrations up to date")


@main.command(context_settings=CONTEXT)
@common_options
def topics(s: Settings) -> None:
    """Create the project's Kafka topics that are missing (explicit partitions and configs)."""
    from pipeline.adapters.kafka.admin import ensure_kafka_topics

    created = ensure_kafka_topics(s)
    click.echo("\n".join(f"created {t}" for t in created) if created else "topics present")


# --- data in ----------------------------------------------------------------------------------------------------

@main.command(context_settings=CONTEXT)
@common_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rate", type=float, default=0.0, show_default=True, help="Mentions per second (0 = as fast as possible).")
@click.option("--limit", type=int, default=0, help="Stop after this many lines (0 = all).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
@click.option("--shift-to-now", is_flag=True, default=False,
              help="Move every created_at by one whole number of hours so that the file's latest created_at falls "
                   "in the current hour (minutes kept: it may lie up to 59 min ahead). Mentions without "
                   "created_at and invalid lines are sent unchanged. Reads FILE once more first. Off by default.")
def replay(s: Settings, file: Path, rate: float, limit: int, progress: bool, shift_to_now: bool) -> None:
    """Produce the mentions of FILE (JSONL, JSONL.gz or CSV) into mentions.raw.

    Lines that are not valid mentions are reported with their line number and still sent, so the pipeline
    dead-letters them with a reason: nothing is silently dropped. Replaying a file again rewrites the same
    rows (mentions are keyed by brand, created_at and id); with --shift-to-now that holds within the same
    hour only: an hour later the shifted created_at differ and every mention gets a second row."""
    from datetime import datetime, timezone

    from pipeline.ops.replay import replay_file

    summary = replay_file(s, file, rate=rate, limit=limit, progress=progress,
                          shift_to=datetime.now(timezone.utc) if shift_to_now else None)
    click.echo(summary.render())


@main.group(context_settings=CONTEXT)
def customers() -> None:
    """Load, link, unlink or erase CRM customers (the identity table)."""


@customers.command("load", context_settings=CONTEXT)
@common_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def customers_load(s: Settings, file: Path, progress: bool) -> None:
    """Publish the identities of FILE's customers (JSONL, JSONL.gz or CSV) to customers.identities.

    Each handle and e-mail becomes one message keyed `<channel>:<handle>` / `email:<addr>`. Bad lines are
    reported with their line number; the rest is loaded."""
    from pipeline.ops.customers import load_customers

    summary = load_customers(s, file, progress=progress)
    click.echo(summary.render())


@customers.command("link", context_settings=CONTEXT)
@common_options
@click.argument("channel")
@click.argument("handle")
@click.argument("customer_id")
@click.option("--by", default=None, help="Who links it, for the audit log [default: your user name].")
@click.option("--force", is_flag=True, help="Move the handle even if it belongs to another customer.")
def customers_link(s: Settings, channel: str, handle: str, customer_id: str, by: Optional[str], force: bool) -> None:
    """Attach CHANNEL HANDLE (e.g. `twitter @bob`, `email bob@example.com`) to the known CUSTOMER_ID.

    Like a CRM load of that handle: its next mentions belong to the customer and what it wrote as a prospect
    moves to the customer's history. Recorded in ClickHouse identity_links (who, when, what)."""
    from pipeline.adapters.identity_links import link, operator

    click.echo(link(s, channel, handle, customer_id, by=by or operator(), force=force).render())


@customers.command("unlink", context_settings=CONTEXT)
@common_options
@click.argument("channel")
@click.argument("handle")
@click.option("--by", default=None, help="Who unlinks it, for the audit log [default: your user name].")
def customers_unlink(s: Settings, channel: str, handle: str, by: Optional[str]) -> None:
    """Detach CHANNEL HANDLE from its customer: its mentions, past and next, are its prospect's again.

    Recorded in ClickHouse identity_links."""
    from pipeline.adapters.identity_links import operator, unlink

    click.echo(unlink(s, channel, handle, by=by or operator()).render())


@customers.command("erase", context_settings=CONTEXT)
@common_options
@click.argument("customer_id")
def customers_erase(s: Settings, customer_id: str) -> None:
    """GDPR erasure: tombstone CUSTOMER_ID's identities and delete its personal data from ClickHouse."""
    from pipeline.ops.customers import erase_customer

    click.echo(erase_customer(s, customer_id).render())


@main.command(context_settings=CONTEXT)
@common_options
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Give up after this many seconds.")
@click.option("--stall-after", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Report a partition whose commit has not moved for this many seconds while others move.")
def drain(s: Settings, timeout: float, stall_after: float) -> None:
    """Wait until every topic the worker consumes has no lag (the sink commits only after ClickHouse inserts)."""
    from pipeline.ops.drain import wait_drained

    lag = wait_drained(s, timeout=timeout, echo=click.echo, stall_after=stall_after)
    if lag:
        raise UserError(f"still {sum(lag.values())} messages behind after {timeout:.0f}s: "
                        + ", ".join(f"{t}={n}" for t, n in sorted(lag.items()) if n)
                        + ". Is the worker running? (`socialpulse status`)")
    click.echo("drained: no lag")


@main.command(context_settings=CONTEXT)
@common_options
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show progress bars.")
def demo(s: Settings, progress: bool) -> None:
    """Start everything, load the bundled CRM, replay the bundled mentions, wait, print a summary.

    Safe to re-run: identities and mentions are idempotent (same ids → same rows, no new alerts)."""
    from pipeline.ops.demo import run_demo

    run_demo(s, click.echo, progress=progress)


@main.command(context_settings=CONTEXT)
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (field names are a contract).")
@click.option("--mentions", type=click.IntRange(min=0), default=30000, show_default=True,
              help="Mentions for the throughput run (with --analytics: in the synthetic year).")
@click.option("--identities", type=click.IntRange(min=0), default=1_000_000, show_default=True,
              help="Identities for recovery.")
@click.option("--latency-seconds", type=click.FloatRange(min=0), default=20.0, show_default=True,
              help="Length of the latency run.")
@click.option("--warmup-seconds", type=click.FloatRange(min=0), default=15.0, show_default=True,
              help="Unrecorded traffic at the same rate before the latency run.")
@click.option("--rate", type=click.FloatRange(1, 100_000), default=1000.0, show_default=True,
              help="Mentions/s of the latency run (the contract's figures are at 1,000/s).")
@click.option("--workers", "scale_workers", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Workers for the scale-out run (1 skips it).")
@click.option("--write-docs/--no-write-docs", default=False, help="Append the result to docs/benchmarks.md.")
@click.option("--analytics", is_flag=True, help="Instead: fill a scratch ClickHouse with a synthetic year of "
              "--mentions mentions and time every dashboard call, customer page call and docs/queries.md question.")
@click.option("--repeat", type=click.IntRange(2, 1000), default=5, show_default=True,
              help="With --analytics: runs per call, the first discarded as warm-up.")
@click.option("--fill", "fill_mode", type=click.Choice(["writer", "sql"]), default="writer", show_default=True,
              help="With --analytics: write the year through the sink's writer, or generate the same year inside "
              "ClickHouse with INSERT … SELECT (much faster; docs/benchmarks.md).")
def bench(s: Settings, as_json: bool, mentions: int, identities: int, latency_seconds: float,
          warmup_seconds: float, rate: float, scale_workers: int, write_docs: bool, analytics: bool,
          repeat: int, fill_mode: str) -> None:
    """Measure pipeline throughput vs VADER alone, alert/queryable latency, RSS and identity recovery.

    Runs on its own scratch embedded Kafka + ClickHouse (free ports), so your data is never touched."""
    from pipeline.codec import encode
    from pipeline.tools.bench.report import render_table
    from pipeline.tools.bench.run import run_bench

    echo = (lambda line: click.echo(line, err=True))
    if analytics:
        from pipeline.tools.bench.analytics import render_analytics, run_analytics

        r = run_analytics(s, echo, mentions=mentions, repeat=repeat, progress=not as_json, fill=fill_mode)
        click.echo(encode(r).decode() if as_json else render_analytics(r))
        return
    result = run_bench(s, echo, mentions=mentions, identities=identities, latency_seconds=latency_seconds,
                       warmup_seconds=warmup_seconds, rate=rate, scale_workers=scale_workers)
    if write_docs:
        from pipeline.tools.bench.report import append_to_docs
        append_to_docs(result)
    click.echo(encode(result).decode() if as_json else render_table(result))


# --- docs and tools ---------------------------------------------------------------------------------------------

@main.command(context_settings=CONTEXT)
@click.option("--markdown", is_flag=True, help="Print the reference (docs/configuration.md).")
def config(markdown: bool) -> None:
    """Show the effective configuration (secrets redacted) or the reference of every variable."""
    from pipeline.contract.settings_doc import settings_reference_markdown

    if markdown:
        click.echo(settings_reference_markdown(), nl=False)
        return
    try:
        s = load_settings()
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    for k, v in s.redacted().items():
        click.echo(f"{k} = {v}")


@main.command(context_settings=CONTEXT)
@click.option("--write", is_flag=True, help="Write schemas/*.json instead of checking them.")
def schemas(write: bool) -> None:
    """Check (or --write) the JSON Schemas in schemas/ generated from the record types."""
    from pipeline.contract.jsonschema import check_schemas, write_schemas

    if write:
        for path in write_schemas():
            click.echo(f"wrote {path}")
        return
    stale = check_schemas()
    if stale:
        raise UserError("out of date: " + ", ".join(stale) + " — run `socialpulse schemas --write`.")
    click.echo("schemas up to date")


@main.group(context_settings=CONTEXT, invoke_without_command=True)
@common_options
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Dashboard port [SOCIALPULSE_DASHBOARD_PORT, default 8080].")
def dashboard(s: Settings, port: Optional[int]) -> None:
    """Serve the live alerts page (SSE), KPIs and ack/resolve until Ctrl-C (`rotate-token`: a new token).

    Binds SOCIALPULSE_DASHBOARD_HOST (127.0.0.1). Token: SOCIALPULSE_DASHBOARD_TOKEN, else the one kept in
    <data dir>/run/dashboard.token (made once, followed while running), printed in the URL to open."""
    if click.get_current_context().invoked_subcommand is None:
        from pipeline.web.server import run_dashboard

        run_dashboard(s, port=port, echo=click.echo)


@dashboard.command("rotate-token", context_settings=CONTEXT)
@common_options
def dashboard_rotate_token(s: Settings) -> None:
    """Write a new token to <data dir>/run/dashboard.token; a running dashboard switches to it within seconds."""
    from pipeline.ops.dashboard import rotate_token

    click.echo("\n".join(rotate_token(s)))


from pipeline.cli import analysis  # noqa: E402,F401 - registers `eval` and `brands` on `main`
from pipeline.cli import analytics  # noqa: E402,F401 - registers `analytics` on `main`

if __name__ == "__main__":
    main()
