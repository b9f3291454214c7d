"""Dirty-day rollups (schemas/clickhouse/008_rollups.sql, pipeline/adapters/clickhouse/rollups.py) on the real
ClickHouse server: every rollup-backed KPI view and period question equals its FINAL-only answer (the 002 views and
the former SQL, kept here as references) with every day dirty, every day clean and a mix; a replay changes no number;
an erased customer leaves the rollups; a day changed after its refresh is dirty again and exact at once; a stale
refresh landing late is ignored; the dirty-day read prunes the base table; `socialpulse analytics rebuild`."""
from __future__ import annotations

import re
import time
from datetime import date, timedelta

import msgspec
import pytest
from click.testing import CliRunner

from pipeline.adapters.clickhouse.client import client
from pipeline.adapters.clickhouse.migrations import MIGRATIONS_DIR, split_statements
from pipeline.adapters.clickhouse.queries import BY_NAME, run_query
from pipeline.adapters.clickhouse.rollups import dirty_days, rebuild, refresh_day, refresh_dirty, status
from pipeline.adapters.clickhouse.writer import ClickHouseWriter, erase_customer

from .test_clickhouse_schema import batch, fixture_mentions, fresh_db, mention

pytestmark = pytest.mark.integration

KPI_VIEWS = {  # view → ORDER BY of its rows
    "v_sentiment_hourly": "hour, brand, channel",
    "v_complaint_rate": "day, brand",
    "v_word_of_mouth": "day, brand",
    "v_share_of_voice": "day, brand",
    "v_community_health": "day, brand",
}
#: The period questions as they were before the rollups (FINAL over every mention of the period).
FINAL_SQL = {
    "complaint_rate_by_brand": """
SELECT brand, count() AS mentions, countIf(is_complaint) AS complaints, round(complaints / mentions, 4),
       uniqExactIf(customer_id, is_complaint)
FROM v_mentions WHERE brand != '' AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY brand ORDER BY round(complaints / mentions, 4) DESC, brand""",
    "share_of_voice": """
SELECT brand, count() AS mentions, round(mentions / sum(mentions) OVER (), 4),
       round(countIf(sentiment_label = 'positive') / mentions, 4), round(countIf(sentiment_label = 'negative') / mentions, 4)
FROM v_mentions WHERE brand != '' AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY brand ORDER BY mentions DESC, brand""",
    "word_of_mouth_growth": """
SELECT brand, uniqExactIf(channel, author, created_at >= %(start)s) AS authors,
       uniqExactIf(channel, author, created_at < %(start)s) AS authors_before,
       toInt64(authors) - toInt64(authors_before), countIf(created_at >= %(start)s), countIf(created_at < %(start)s)
FROM v_mentions WHERE brand != '' AND created_at >= %(previous_start)s AND created_at < %(end)s
GROUP BY brand ORDER BY authors DESC, brand""",
}
#: Periods for the questions: the documented whole weeks, and sub-day edges (exact through the base table).
PERIODS = [
    {},
    {"start": "2026-11-09 10:30:00", "end": "2026-11-15 09:45:00", "previous_start": "2026-11-02 23:00:00"},
    {"start": "2026-11-15 09:00:00", "end": "2026-11-15 10:00:00", "previous_start": "2026-11-14 00:00:00"},
    {"start": "2026-09-01 00:00:00", "end": "2026-12-01 00:00:00", "previous_start": "2026-08-01 00:00:00"},
]


def reference_views(c) -> None:
    """ref_v_*: the FINAL-only KPI views exactly as 002_analytics.sql defines them."""
    for statement in split_statements((MIGRATIONS_DIR / "002_analytics.sql").read_text()):
        m = re.match(r"CREATE OR REPLACE VIEW (\w+) AS", statement)
        if m and m.group(1) in KPI_VIEWS:
            c.execute(statement.replace(f"VIEW {m.group(1)} ", f"VIEW ref_{m.group(1)} ", 1))


def close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return a == b


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    return len(got) == len(want) and all(len(g) == len(w) and all(map(close, g, w)) for g, w in zip(got, want))


def assert_exact(c) -> None:
    """Every rollup-backed view and question equals its FINAL-only answer."""
    for view, order in KPI_VIEWS.items():
        got = c.execute(f"SELECT * FROM {view} ORDER BY {order}")
        want = c.execute(f"SELECT * FROM ref_{view} ORDER BY {order}")
        assert got and same_rows(got, want), view
        assert c.execute(f"DESCRIBE {view}") == c.execute(f"DESCRIBE ref_{view}"), view
    for name in ("hourly_sentiment_for_brand", "community_health_trend"):
        q = BY_NAME[name]
        for brand in ("acme", "globex"):
            params = {**q.params, "brand": brand}
            ref_sql = re.sub(r"FROM (v_\w+)", r"FROM ref_\1", q.sql)
            assert same_rows(run_query(c, name, brand=brand), c.execute(ref_sql, params)), (name, brand)
    for name, sql in FINAL_SQL.items():
        for period in PERIODS:
            params = {k: v for k, v in {**BY_NAME[name].params, **period}.items() if k in BY_NAME[name].params}
            got, want = run_query(c, name, **params), c.execute(sql, params)
            assert got and same_rows(got, want), (name, params)


def write_fixture(s) -> None:
    """The documented queries' fixture (with a stale version and a replay), 3000 mentions over four months, and a
    few replies (original_posts)."""
    w = ClickHouseWriter(s)
    ms = fixture_mentions()
    w.insert_mentions([msgspec.structs.replace(ms["m3"], processed_at="2026-11-15T10:05:01Z")], "stale")
    w.insert_mentions(list(ms.values()), "fixture")
    w.insert_mentions(list(ms.values()), "fixture-replayed")
    rows = batch()
    for i in range(0, len(rows), 7):
        rows[i] = msgspec.structs.replace(rows[i], in_reply_to=f"twitter:{i + 1}")
    w.insert_mentions(rows, "batch")
    w.close()


@pytest.fixture
def db(request, clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_rollups_" + request.node.name[:40])
    write_fixture(s)
    c = client(s)
    reference_views(c)
    yield s, c
    c.disconnect()


def kpi_snapshot(c) -> dict[str, list[tuple]]:
    return {v: c.execute(f"SELECT * FROM {v} ORDER BY {o}") for v, o in KPI_VIEWS.items()}


def all_days(c) -> list[date]:
    return [r[0] for r in c.execute("SELECT DISTINCT toDate(created_at) AS d FROM mentions ORDER BY d")]


def test_exact_when_every_day_is_dirty_clean_or_mixed(db):
    s, c = db
    days = all_days(c)
    assert status(c)["clean_days"] == 0 and len(dirty_days(c, 0)) == len(days)
    assert_exact(c)  # nothing refreshed: every day from the base table

    for d in days[::2]:  # mixed: every other day from the rollups (the fixture's week included)
        assert refresh_day(c, d, settle_seconds=0)
    assert status(c) == {**status(c), "clean_days": len(days[::2]), "dirty_days": len(days) - len(days[::2])}
    assert_exact(c)

    assert refresh_dirty(c, 0) == len(days) - len(days[::2])
    assert dirty_days(c, 0) == [] and status(c)["dirty_days"] == 0
    assert c.execute("SELECT sum(mentions) FROM mentions_daily FINAL") == [(len(fixture_mentions()) + 3000,)]
    assert_exact(c)  # every day from the rollups


def test_settle_margin_keeps_a_day_just_written_dirty(db):
    s, c = db
    assert dirty_days(c, 3600) == []  # every mark is seconds old
    assert refresh_day(c, date(2026, 11, 15), settle_seconds=3600)  # version an hour ago: older than the mark
    assert date(2026, 11, 15) in [r[0] for r in c.execute("SELECT day FROM v_rollup_dirty_days")]
    assert_exact(c)  # its rows do not count (version below the day's mark)


def test_a_replay_changes_no_number_after_refresh(db):
    s, c = db
    refresh_dirty(c, 0)
    before = kpi_snapshot(c)
    w = ClickHouseWriter(s)  # the same rows again, another dedup token, processed later
    w.insert_mentions([msgspec.structs.replace(m, processed_at="2026-11-20T00:00:00Z")
                       for m in fixture_mentions().values()], "replay-other-token")
    w.close()
    assert len(dirty_days(c, 0)) > 0  # the replayed days are dirty, read from the base table
    assert kpi_snapshot(c) == before
    refresh_dirty(c, 0)
    assert dirty_days(c, 0) == []
    assert kpi_snapshot(c) == before
    assert_exact(c)


def test_a_day_changed_after_refresh_is_dirty_and_exact_at_once(db):
    s, c = db
    refresh_dirty(c, 0)
    w = ClickHouseWriter(s)  # a new version of m3 (now a complaint) + a new mention at the day's last millisecond
    w.insert_mentions([msgspec.structs.replace(fixture_mentions()["m3"], processed_at="2026-11-21T00:00:00Z",
                                               complaint=msgspec.structs.replace(fixture_mentions()["m3"].complaint,
                                                                                 is_complaint=True)),
                       mention("new", "2026-11-15T23:59:59.999Z", brand="initech", complaint=True, customer_id="C-9")],
                      "change")
    w.close()
    assert [r[0] for r in c.execute("SELECT day FROM v_rollup_dirty_days")] == [date(2026, 11, 15)]
    assert_exact(c)
    assert c.execute("SELECT mentions, complaints FROM v_complaint_rate WHERE brand = 'initech'") == [(1, 1)]
    refresh_dirty(c, 0)
    assert dirty_days(c, 0) == []
    assert_exact(c)
    assert c.execute("SELECT mentions, complaints FROM mentions_daily FINAL WHERE brand = 'initech'") == [(1, 1)]


def assert_gone(c, count_sql: str, timeout: float = 60.0) -> None:
    """The stale-group DELETE does not wait for its mutation (the views skip those rows already): poll until the
    rows are physically gone."""
    deadline = time.monotonic() + timeout
    while c.execute(count_sql) != [(0,)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert c.execute(count_sql) == [(0,)], count_sql


def test_erase_removes_the_customer_from_the_rollups_after_refresh(db):
    s, c = db
    w = ClickHouseWriter(s)  # C-77 is the only author of brand 'solo' on 2026-11-14
    w.insert_mentions([mention("solo1", "2026-11-14T08:00:00Z", brand="solo", customer_id="C-77", author="sam",
                               complaint=True, compound=-0.5)], "solo")
    w.close()
    refresh_dirty(c, 0)
    assert c.execute("SELECT count() FROM mentions_daily FINAL WHERE brand = 'solo'") == [(1,)]
    erase_customer(s, "C-77")
    erase_customer(s, "C-1")
    assert date(2026, 11, 14) in dirty_days(c, 0) and date(2026, 11, 15) in dirty_days(c, 0)
    assert_exact(c)  # read from the base table until refreshed: the customers are already gone
    refresh_dirty(c, 0)
    assert dirty_days(c, 0) == []
    assert_exact(c)
    # the group only C-77 made is deleted, not left at an older version (the DELETE does not wait for its
    # mutation: the views skip the row already, its version being below the erase's mark)
    assert_gone(c, "SELECT count() FROM mentions_daily WHERE brand = 'solo'")
    assert_gone(c, "SELECT count() FROM mentions_hourly WHERE brand = 'solo'")


def test_a_late_stale_refresh_is_ignored(db):
    s, c = db
    refresh_dirty(c, 0)
    before = kpi_snapshot(c)
    # a slower refresher that read the day before a change lands its rows after the newer refresh (older version)
    c.execute("INSERT INTO mentions_daily (day, brand, version, mentions, complaints, authors, complainers) "
              "SELECT toDate('2026-11-15'), 'ghost', now64(3, 'UTC') - toIntervalHour(1), 99, 99, "
              "uniqExactState('x', 'y'), uniqExactState('z')")
    c.execute("INSERT INTO mentions_hourly (day, brand, channel, hour, version, mentions) "
              "SELECT toDate('2026-11-15'), 'acme', 'twitter', toDateTime('2026-11-15 09:00:00', 'UTC'), "
              "now64(3, 'UTC') + toIntervalHour(1), 1000")  # and a crashed refresh of a *later* state: counts
    assert kpi_snapshot(c)["v_complaint_rate"] == before["v_complaint_rate"]
    assert c.execute("SELECT mentions FROM v_sentiment_hourly WHERE brand = 'acme' AND channel = 'twitter' "
                     "AND hour = '2026-11-15 09:00:00'") == [(1000,)]
    refresh_day(c, date(2026, 11, 15), settle_seconds=0)  # a later refresh writes over both and deletes the ghost
    assert_gone(c, "SELECT count() FROM mentions_daily WHERE brand = 'ghost'")


def test_the_base_table_side_reads_only_the_dirty_days(db):
    s, c = db
    refresh_dirty(c, 0)
    w = ClickHouseWriter(s)
    w.insert_mentions([mention("late", "2026-10-03T12:00:00Z", processed_at="2026-11-30T00:00:00Z")], "late")
    w.close()
    plan = "\n".join(r[0] for r in c.execute("EXPLAIN indexes = 1 SELECT sum(mentions) FROM v_mentions_daily"))
    base = plan[plan.index("ReadFromMergeTree (t_rollups_"):]
    base = base[base.index(".mentions)"):]  # the base table's read, after the rollup's
    assert "toDate(created_at) in 1-element set" in base, plan
    parts = [tuple(map(int, p)) for p in re.findall(r"Parts: (\d+)/(\d+)", base)]
    assert parts[0][0] < parts[0][1], plan  # min-max / partition pruning: only October's parts
    assert_exact(c)


def test_rebuild_makes_every_day_clean_and_cli(db, tmp_path):
    from pipeline.cli import main
    from pipeline.ops.stack import settings_env

    s, c = db
    days = all_days(c)
    seen: list[date] = []
    assert rebuild(c, lambda d, i, n: seen.append(d), settle_seconds=0) == len(days)
    assert seen == days and status(c)["dirty_days"] == 0
    assert_exact(c)
    # a restore that brought old rollup rows back: rebuild marks every day first, so they never count
    c.execute("INSERT INTO mentions_daily (day, brand, version, mentions) "
              "SELECT toDate('2026-11-15'), 'acme', toDateTime64('2026-01-01 00:00:00', 3, 'UTC'), 12345")
    env = {**settings_env(s), "SOCIALPULSE_ROLLUP_SETTLE_SECONDS": "0"}
    result = CliRunner().invoke(main, ["analytics", "rebuild", "--no-progress"], env=env)
    assert result.exit_code == 0, result.output
    assert f"rebuilt the rollups of {len(days)} of {len(days)} days" in result.output
    assert_exact(c)
    result = CliRunner().invoke(main, ["analytics", "status"], env=env)
    assert result.exit_code == 0 and f"clean days (read from the rollups): {len(days)}" in result.output
    assert "dirty days (read from the base table): 0" in result.output
    # unreachable ClickHouse: one line, no traceback
    from pipeline.ops.services.process import free_port

    result = CliRunner().invoke(main, ["analytics", "rebuild", "--clickhouse-port", str(free_port())], env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Connection refused" in result.output and "socialpulse up" in result.output, result.output


def test_the_refresher_thread_makes_settled_days_clean(db):
    from pipeline.runtime.rollup_refresher import RefresherConfig, RollupRefresher

    s, c = db
    r = RollupRefresher(s, RefresherConfig(interval=0.2, settle_seconds=0))
    r.start()
    try:
        deadline = time.monotonic() + 60
        while status(c)["dirty_days"] and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        r.stop()
    assert status(c)["dirty_days"] == 0 and r.days_refreshed == len(all_days(c))
    assert_exact(c)


def test_a_day_past_the_rows_retention_keeps_its_rollup_when_marked_again(db):
    """Rows retention: a late mention of a day whose rows are gone must not replace the day's aggregates by its own."""
    s, c = db
    refresh_dirty(c, 0)
    day = date(2026, 11, 15)
    before = c.execute("SELECT * FROM v_complaint_rate WHERE day = %(d)s ORDER BY brand", {"d": day})
    c.execute("DELETE FROM mentions WHERE toDate(created_at) = %(d)s", {"d": day},
              settings={"lightweight_deletes_sync": 2})  # what the TTL does to the day's rows
    w = ClickHouseWriter(s)
    w.insert_mentions([mention("late", "2026-11-15T12:00:00Z", brand="acme", customer_id="C-9")], "late")
    w.close()
    assert [r[0] for r in c.execute("SELECT day FROM v_rollup_dirty_days")] == [day]
    assert refresh_dirty(c, 0, oldest=day + timedelta(days=1)) == 1  # the day is before the horizon: kept
    assert dirty_days(c, 0) == []
    assert c.execute("SELECT * FROM v_complaint_rate WHERE day = %(d)s ORDER BY brand", {"d": day}) == before
    # a day after the horizon is recomputed as usual
    w = ClickHouseWriter(s)
    w.insert_mentions([mention("later", "2026-11-16T12:00:00Z", brand="initech", customer_id="C-9")], "later")
    w.close()
    assert refresh_dirty(c, 0, oldest=day + timedelta(days=1)) == 1
    assert c.execute("SELECT mentions FROM v_complaint_rate WHERE day = '2026-11-16' AND brand = 'initech'") == [(1,)]
