"""The dashboard's paths of migration 009 (schemas/clickhouse/009_dashboard_paths.sql) on the real ClickHouse server:
alerts_unresolved answers the live page's snapshot and KPIs, v_open_alerts_by_brand and the valuable-customers
question exactly as `alerts FINAL` did, through ack / resolve / reopen / assign sequences, replays and the sink
race, before and after CLEANUP merges; existing alerts are copied by the migration (a re-run changes nothing); the
KPI mentions window skips granules by idx_processed_at and counts what the full scan counts; erase empties it."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.adapters.clickhouse.migrations import apply_migrations, migration_files, quote_database
from pipeline.adapters.clickhouse.queries import BY_NAME, run_query
from pipeline.adapters.clickhouse.writer import ClickHouseWriter, erase_customer
from pipeline.contract.records import AlertAction
from pipeline.web import api
from tests.integration.test_clickhouse_schema import alert, fresh_db, iso, mention, scalar

pytestmark = pytest.mark.integration
UTC = timezone.utc
BRANDS = ("", "acme", "globex")

# What the code read before migration 009 (the same SQL over `alerts FINAL`), the reference of every comparison.
OLD_SNAPSHOT_SQL = api.SNAPSHOT_SQL.replace("alerts_unresolved FINAL", "alerts FINAL")
OLD_KPI_ALERTS_SQL = api.KPI_ALERTS_SQL.replace("alerts_unresolved FINAL", "alerts FINAL")
OLD_OPEN_BY_BRAND_VIEW = """
SELECT brand, countIf(status = 'open') AS open_alerts, countIf(status = 'acked') AS acked_alerts,
       count() AS unresolved_alerts, countIf(severity = 'critical') AS critical, countIf(severity = 'high') AS high,
       countIf(severity = 'medium') AS medium, countIf(severity = 'low') AS low, countIf(assignee = '') AS unassigned,
       min(created_at) AS oldest_unresolved_at
FROM alerts FINAL WHERE status != 'resolved' GROUP BY brand"""
OLD_VALUABLE_SQL = BY_NAME["valuable_customers_with_unresolved_alerts"].sql.replace(
    "FROM v_alerts_unresolved\nWHERE NOT is_prospect",
    "FROM v_alerts_current\nWHERE status != 'resolved' AND NOT is_prospect")
VALUABLE_PARAMS = {"tiers": ("gold", "platinum"), "min_lifetime_value": 10000.0}


def assert_same_as_alerts_final(c) -> None:
    for limit in (2, 100):
        assert c.execute(api.SNAPSHOT_SQL, {"limit": limit}) == c.execute(OLD_SNAPSHOT_SQL, {"limit": limit})
    for brand in BRANDS:
        assert c.execute(api.KPI_ALERTS_SQL, {"brand": brand}) == c.execute(OLD_KPI_ALERTS_SQL, {"brand": brand})
    assert c.execute("SELECT * FROM v_open_alerts_by_brand ORDER BY brand") == \
        c.execute(OLD_OPEN_BY_BRAND_VIEW + " ORDER BY brand")
    assert run_query(c, "open_alerts_by_brand") == c.execute(
        BY_NAME["open_alerts_by_brand"].sql.replace("v_open_alerts_by_brand", f"({OLD_OPEN_BY_BRAND_VIEW})"))
    assert run_query(c, "valuable_customers_with_unresolved_alerts") == c.execute(OLD_VALUABLE_SQL, VALUABLE_PARAMS)


def act(w, n: int, alert_id: str, action: str, minute: int, assignee: str = "") -> None:
    w.apply_actions([AlertAction(alert_id=alert_id, action=action, by="ann", assignee=assignee or None,
                                 at=f"2026-11-15T12:{minute:02d}:00Z")], f"x{n}")


def unresolved(c) -> list[tuple]:
    return c.execute("SELECT alert_id, status FROM v_alerts_unresolved ORDER BY alert_id")


def test_unresolved_alerts_answer_as_alerts_final_through_actions_replays_and_cleanup(clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_dashboard_paths")
    w, c = ClickHouseWriter(s), client(s)
    try:
        # alerts over three monthly partitions, two brands, tiers and values for the valuable question
        ms = [mention(str(i), iso(datetime(2026, 9, 20, tzinfo=UTC) + timedelta(days=11 * i)), complaint=True,
                      brand=("acme", "globex")[i % 2], customer_id=f"C-{i % 3}", compound=-0.5) for i in range(8)]
        alerts = [alert(f"A{i}", m, severity=("critical", "high", "medium", "low")[i % 4],
                        tier=("gold", "standard")[i % 2], lifetime_value=20000.0 * (i % 3))
                  for i, m in enumerate(ms)]
        prospect = mention("p", "2026-11-15T09:00:00Z", complaint=True, customer_id="P-x", prospect=True)
        alerts.append(alert("AP", prospect, type_="complaint"))
        act(w, 0, "A7", "ack", 0)  # the sink race: A7's action before A7
        w.insert_alerts(alerts, "alerts-1")
        assert_same_as_alerts_final(c)
        assert unresolved(c)[-2:] == [("A7", "acked"), ("AP", "open")]

        act(w, 1, "A0", "ack", 1)
        act(w, 2, "A1", "resolve", 2)  # resolved without an ack
        act(w, 3, "A2", "ack", 3)
        act(w, 4, "A2", "resolve", 4)
        act(w, 5, "A3", "assign", 5, assignee="bo")
        act(w, 6, "A4", "resolve", 6)
        act(w, 7, "A4", "ack", 7)  # reopened: acked after its resolve
        assert_same_as_alerts_final(c)
        assert ("A1", "resolved") not in c.execute("SELECT alert_id, status FROM alerts_unresolved FINAL")
        assert [a for a, _ in unresolved(c)] == ["A0", "A3", "A4", "A5", "A6", "A7", "AP"]

        # replays: the alerts again under another token (new versions), an action delivered twice
        w.insert_alerts(alerts, "alerts-1-replayed")
        act(w, 8, "A2", "resolve", 4)
        w.insert_alerts(alerts[:3], "alerts-1-replayed-twice")
        assert_same_as_alerts_final(c)
        assert [a for a, _ in unresolved(c)] == ["A0", "A3", "A4", "A5", "A6", "A7", "AP"]

        # CLEANUP merges remove the resolved alerts and every older version; the answers stay the same
        stored = scalar(c, "SELECT count() FROM alerts_unresolved")
        c.execute("OPTIMIZE TABLE alerts_unresolved FINAL CLEANUP")
        assert scalar(c, "SELECT count() FROM alerts_unresolved") == 7 < stored
        assert_same_as_alerts_final(c)
        # after the cleanup: a resolved alert reopened comes back, a replayed resolved alert stays away
        act(w, 9, "A1", "ack", 9)
        w.insert_alerts([alerts[2]], "alerts-late-replay")
        act(w, 10, "A0", "resolve", 10)
        assert_same_as_alerts_final(c)
        assert [a for a, _ in unresolved(c)] == ["A1", "A3", "A4", "A5", "A6", "A7", "AP"]
    finally:
        w.close()
        c.disconnect()


def test_tombstones_go_by_themselves_once_a_partition_is_quiet(clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_dashboard_paths_cleanup")
    w, c = ClickHouseWriter(s), client(s)
    try:
        c.execute("ALTER TABLE alerts_unresolved MODIFY SETTING min_age_to_force_merge_seconds = 1")
        ms = [mention(str(i), f"2026-10-1{i}T10:00:00Z", complaint=True) for i in range(4)]
        w.insert_alerts([alert(f"A{i}", m) for i, m in enumerate(ms)], "a")
        for i in range(3):
            act(w, i, f"A{i}", "resolve", i)
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while scalar(c, "SELECT count() FROM alerts_unresolved") > 1 and datetime.now(UTC) < deadline:
            c.execute("SELECT sleep(1)")
        assert c.execute("SELECT alert_id FROM alerts_unresolved") == [("A3",)]
        assert_same_as_alerts_final(c)
    finally:
        w.close()
        c.disconnect()


def test_migration_copies_unresolved_alerts_and_a_rerun_changes_nothing(clickhouse_settings, tmp_path):
    s = dataclasses.replace(clickhouse_settings, clickhouse_database="t_dashboard_paths_upgrade")
    admin = client(s, database=False)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_database(s.clickhouse_database)} SYNC")
    finally:
        admin.disconnect()
    for m in migration_files():  # a database before 009, with alerts and actions in it, then the upgrade
        if m.version < 9:
            (tmp_path / m.path.name).write_text(m.sql)
    apply_migrations(s, tmp_path)
    w = ClickHouseWriter(s)
    ms = [mention(str(i), f"2026-11-1{i}T10:00:00Z", complaint=True, customer_id=f"C-{i}") for i in range(4)]
    w.insert_alerts([alert(f"A{i}", m) for i, m in enumerate(ms)], "before")
    act(w, 0, "A0", "ack", 0)
    act(w, 1, "A1", "resolve", 1)
    w.insert_alerts([alert("A2", ms[2])], "before-replayed")
    assert [m.name for m in migration_files() if m.version >= 9][0] == "009_dashboard_paths.sql"
    apply_migrations(s)
    c = client(s)
    try:
        assert_same_as_alerts_final(c)
        assert unresolved(c) == [("A0", "acked"), ("A2", "open"), ("A3", "open")]
        copied = scalar(c, "SELECT count() FROM alerts_unresolved FINAL")
        for statement in next(m for m in migration_files() if m.version == 9).statements:
            c.execute(statement)  # the file again, as after an interruption
        assert scalar(c, "SELECT count() FROM alerts_unresolved FINAL") == copied == 3
        assert_same_as_alerts_final(c)
        # new versions flow through the materialized view
        act(w, 2, "A2", "resolve", 2)
        assert unresolved(c) == [("A0", "acked"), ("A3", "open")]
        assert_same_as_alerts_final(c)
        removed = erase_customer(c, "C-0")
        assert removed["alerts_unresolved"] >= 1
        assert scalar(c, "SELECT count() FROM alerts_unresolved WHERE customer_id = 'C-0'") == 0
        assert unresolved(c) == [("A3", "open")]
    finally:
        w.close()
        c.disconnect()


def test_kpi_mentions_window_skips_old_granules_and_counts_as_the_full_scan(clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_dashboard_paths_kpi")
    w, c = ClickHouseWriter(s), client(s)
    try:
        now = datetime.now(UTC)
        old = [mention(str(i), iso(now - timedelta(hours=3, seconds=i)), processed_at=iso(now - timedelta(hours=2)),
                       brand=("acme", "globex")[i % 2], compound=(i % 3 - 1) / 2, complaint=i % 5 == 0)
               for i in range(40_000)]
        w.insert_mentions(old, "old")
        recent = [mention(f"r{i}", iso(now - timedelta(minutes=2)), processed_at=iso(now - timedelta(minutes=1)),
                          brand=("acme", "globex")[i % 2], compound=-0.5, complaint=i % 2 == 0) for i in range(30)]
        late = mention("late", "2026-01-05T10:00:00Z", processed_at=iso(now - timedelta(seconds=30)))
        w.insert_mentions([*recent, late], "recent")
        # a replay of some old mentions, processed now: they count in the window, once
        w.insert_mentions([msgspec.structs.replace(m, processed_at=iso(now)) for m in old[:7]], "replay")
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN indexes = 1 " + api.KPI_MENTIONS_SQL, {"brand": ""}))
        read, total = map(int, re.search(r"Name: idx_processed_at.*?Granules: (\d+)/(\d+)", plan, re.S).groups())
        assert total >= 5 and read <= total - 2, plan  # most of the 40,000 old rows' granules are skipped
        assert "PrimaryKeyExpand" not in plan, plan  # and not added back by the exact mode (turned off by the query)
        for brand in BRANDS:
            full = c.execute(api.KPI_MENTIONS_SQL, {"brand": brand}, settings={"use_skip_indexes": 0})
            assert c.execute(api.KPI_MENTIONS_SQL, {"brand": brand}) == full
        assert c.execute(api.KPI_MENTIONS_SQL, {"brand": ""}) == [(38, 33, 17)]
    finally:
        w.close()
        c.disconnect()
