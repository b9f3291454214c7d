"""The customer-ordered tables (schemas/clickhouse/007_customer_paths.sql) on the real ClickHouse server: they hold
exactly the base tables' rows (replays and alert versions collapsed the same way), the customer page's queries read
them and give the answers of the base-table views, existing data is copied by the migration, and erase empties them.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime

import msgspec
import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.adapters.clickhouse.migrations import apply_migrations, migration_files, quote_database
from pipeline.adapters.clickhouse.writer import ClickHouseWriter, erase_customer
from pipeline.contract.records import AlertAction
from pipeline.web import customers
from tests.integration.test_clickhouse_schema import (P_ALICE_FB, P_DAVE, P_ERIN, alert, analytics,  # noqa: F401
                                                      fixture_mentions, mention, scalar)

pytestmark = pytest.mark.integration
PEOPLE = ("C-1", "C-2", "C-3", "C-4", P_ALICE_FB, P_DAVE, P_ERIN, "C-nobody")
VALUE_COLUMNS = ("customer_id, is_prospect, tier, lifetime_value, referral_value, advocacy, mentions, positive, "
                 "negative, reach, influence, first_seen, last_seen")


def ids_of(c, person: str) -> tuple[str, ...]:
    """What the customer page passes as %(ids)s: the person and the prospects linked to it."""
    return (person, *sorted(r[0] for r in c.execute(customers.IDS_SQL, {"id": person})))


def test_customer_tables_hold_the_base_rows_once(analytics):
    c = analytics
    for base, derived, key in (("mentions", "mentions_by_customer", "mention_id"),
                               ("alerts", "alerts_by_customer", "alert_id")):
        cols = "customer_id, created_at, " + key + (", status, assignee" if base == "alerts" else
                                                     ", is_complaint, sentiment_label")
        want = c.execute(f"SELECT {cols} FROM {base} FINAL ORDER BY {key}")
        assert c.execute(f"SELECT {cols} FROM {derived} FINAL ORDER BY {key}") == want, derived
        assert len(want) == (len(fixture_mentions()) if base == "mentions" else 7)


def test_value_of_one_person_equals_its_row_of_v_customer_value(analytics):
    c = analytics
    every = {r[0]: r for r in c.execute(f"SELECT {VALUE_COLUMNS} FROM v_customer_value")}
    for person in PEOPLE:
        got = c.execute(f"SELECT {VALUE_COLUMNS} FROM v_customer_value_of(customer_id = %(id)s)", {"id": person})
        want = [every[person]] if person in every else []
        assert got == [tuple(pytest.approx(v, abs=1e-9) if isinstance(v, float) else v for v in row)
                       for row in want], person
    # the linked prospect has no row of its own (its mentions count for C-1); the unknown id has none either
    assert P_ALICE_FB not in every and "C-nobody" not in every


@pytest.mark.parametrize("limit", [1, 3, 200])
def test_page_timeline_is_the_views_newest_rows(analytics, limit):
    c = analytics
    cols = ", ".join(customers.TIMELINE_COLUMNS)
    for person in PEOPLE:
        want = c.execute(f"SELECT {cols} FROM v_customer_timeline(customer_id = %(id)s) "
                         f"ORDER BY at DESC, kind = 'alert' DESC, ref_id LIMIT %(limit)s", {"id": person, "limit": limit})
        got = c.execute(customers.TIMELINE_SQL, {"id": person, "ids": ids_of(c, person), "limit": limit})
        assert got == want, (person, limit)
    # C-1: 3 mentions as a customer, m8 as a prospect, alerts A1 and A2
    assert len(c.execute(customers.TIMELINE_SQL, {"ids": ids_of(c, "C-1"), "limit": 200})) == 6


def test_page_stats_and_open_alerts_equal_the_base_tables(analytics):
    c = analytics
    for person in PEOPLE:
        ids = ids_of(c, person)
        assert c.execute(customers.STATS_SQL, {"ids": ids}) == c.execute(
            "SELECT count(), min(created_at), max(created_at), max(influence), max(author_followers) "
            "FROM mentions FINAL WHERE customer_id IN %(ids)s", {"ids": ids}), person
        base_open = customers.OPEN_ALERTS_SQL.replace("alerts_by_customer FINAL", "alerts FINAL")
        assert c.execute(customers.OPEN_ALERTS_SQL, {"ids": ids}) == c.execute(base_open, {"ids": ids}), person
    assert [r[0] for r in c.execute(customers.OPEN_ALERTS_SQL, {"ids": ids_of(c, "C-3")})] == ["A4"]  # A3 resolved


def test_migration_copies_existing_rows_and_erase_empties_the_copies(clickhouse_settings, tmp_path):
    s = dataclasses.replace(clickhouse_settings, clickhouse_database="t_customer_paths_upgrade")
    admin = client(s, database=False)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_database(s.clickhouse_database)} SYNC")
    finally:
        admin.disconnect()
    # a database at 006 with data in it (the files before 007 only), then the upgrade
    for m in migration_files():
        if m.version < 7:
            (tmp_path / m.path.name).write_text(m.sql)
    apply_migrations(s, tmp_path)
    w = ClickHouseWriter(s)
    old = [mention(str(i), f"2026-11-1{i}T10:00:00Z", customer_id="C-1", complaint=True, compound=-0.5)
           for i in range(3)]
    w.insert_mentions(old, "before")
    w.insert_alerts([alert("A-0", old[0]), alert("A-1", old[1])], "before")
    apply_migrations(s)
    c = client(s)
    try:
        assert scalar(c, "SELECT count() FROM mentions_by_customer FINAL WHERE customer_id = 'C-1'") == 3
        assert scalar(c, "SELECT count() FROM alerts_by_customer FINAL WHERE customer_id = 'C-1'") == 2
        # new writes flow through the materialized views, a new alert version replaces the old one
        new = mention("9", "2026-11-19T10:00:00Z", customer_id="C-1")
        w.insert_mentions([new, msgspec.structs.replace(old[0], processed_at="2026-11-17T00:00:00Z")], "after")
        w.apply_actions([AlertAction(alert_id="A-0", action="resolve", by="ann", at="2026-11-12T10:00:00Z")], "x")
        assert scalar(c, "SELECT count() FROM mentions_by_customer FINAL WHERE customer_id = 'C-1'") == 4
        assert c.execute("SELECT alert_id, status FROM alerts_by_customer FINAL ORDER BY alert_id") == \
            [("A-0", "resolved"), ("A-1", "open")]
        assert c.execute(customers.STATS_SQL, {"ids": ("C-1",)})[0][0] == 4
        removed = erase_customer(c, "C-1")
        assert removed["mentions_by_customer"] >= 4 and removed["alerts_by_customer"] >= 2
        for table in ("mentions_by_customer", "alerts_by_customer"):
            assert scalar(c, f"SELECT count() FROM {table}") == 0, table
    finally:
        w.close()
        c.disconnect()


def test_dates_are_not_shifted(analytics):
    """The copy keeps DateTime64(3, 'UTC') to the millisecond."""
    got = scalar(analytics, "SELECT max(created_at) FROM mentions_by_customer FINAL")
    assert got == scalar(analytics, "SELECT max(created_at) FROM mentions FINAL")
    assert isinstance(got, datetime)


OLD_SEARCH_SQL = """
SELECT m.customer_id, max(m.is_prospect) AS is_prospect, arraySort(groupUniqArray(m.matched)) AS matched,
       any(c.name) AS name, any(c.tier) AS tier, any(c.lifetime_value) AS lifetime_value
FROM
(
    SELECT customer_id, is_prospect, identity_key AS matched
    FROM identities FINAL
    WHERE identity_key = %(key)s OR handle = %(handle)s OR customer_id = %(q)s
       OR (%(prefix)s != '' AND channel != 'email' AND startsWith(handle, %(prefix)s))
    UNION ALL
    SELECT customer_id, false, '' FROM customers FINAL WHERE customer_id = %(q)s
) AS m
LEFT JOIN (SELECT customer_id, name, tier, lifetime_value FROM customers FINAL) AS c ON c.customer_id = m.customer_id
GROUP BY m.customer_id
ORDER BY is_prospect, m.customer_id
LIMIT %(limit)s
"""


def _search(c, sql: str, q: str) -> list[tuple]:
    return [(*r[:2], sorted(r[2]), *r[3:]) for r in c.execute(sql, customers.search_params(q))]


@pytest.mark.parametrize("q", ["alice", "@Alice", "ali", "al", "bob", "twitter:carol", "carol@example.com",
                               "C-2", "C-nobody", "dav", "erin", "zzz", P_DAVE])
def test_search_reads_the_handle_ordered_copy_and_finds_what_the_full_scan_found(analytics, q):
    assert _search(analytics, customers.SEARCH_SQL, q) == _search(analytics, OLD_SEARCH_SQL, q)


def test_search_finds_something_and_a_tombstone_leaves_the_handle_copy(clickhouse_settings):
    from pipeline.contract.records import Identity
    from tests.integration.test_clickhouse_schema import fresh_db
    s = fresh_db(clickhouse_settings, "t_customer_paths_search")
    w = ClickHouseWriter(s)
    c = client(s)
    try:
        w.upsert_identities([("twitter:zed", Identity(key="twitter:zed", customer_id="C-9", name="Zed")),
                             ("twitter:zoe", Identity(key="twitter:zoe", customer_id="C-8", name="Zoe"))], "i")
        assert [r[0] for r in _search(c, customers.SEARCH_SQL, "z")] == []  # under MIN_PREFIX: exact only
        assert [r[0] for r in _search(c, customers.SEARCH_SQL, "zed")] == ["C-9"]
        w.upsert_identities([("twitter:zed", None)], "tombstone")
        assert c.execute("SELECT identity_key FROM identities_by_handle FINAL ORDER BY identity_key") == \
            [("twitter:zoe",)]
        assert _search(c, customers.SEARCH_SQL, "zed") == _search(c, OLD_SEARCH_SQL, "zed")
    finally:
        w.close()
        c.disconnect()


def test_rebuild_writes_the_copies_again_from_the_base_tables(analytics, clickhouse_settings):
    """`analytics rebuild` after a restore of the base tables only: the copies come back exactly as the materialized
    views wrote them, and running it again changes nothing."""
    from click.testing import CliRunner

    from pipeline.adapters.clickhouse.copies import COPIES
    from pipeline.cli import main
    from pipeline.ops.stack import settings_env

    c = analytics
    copies = [target for target, _ in COPIES.values()]
    before = {t: c.execute(f"SELECT * FROM {t} FINAL ORDER BY ALL") for t in copies}
    assert all(before.values())
    for t in copies:
        c.execute(f"TRUNCATE TABLE {t}")
    s = dataclasses.replace(clickhouse_settings, clickhouse_database="t_schema_queries")
    env = {**settings_env(s), "SOCIALPULSE_ROLLUP_SETTLE_SECONDS": "0"}
    for _ in range(2):
        result = CliRunner().invoke(main, ["analytics", "rebuild", "--no-progress"], env=env)
        assert result.exit_code == 0, result.output
        assert "copied alerts_by_customer" in result.output and "mentions_by_customer" in result.output
        assert {t: c.execute(f"SELECT * FROM {t} FINAL ORDER BY ALL") for t in copies} == before


def test_a_mention_replayed_under_the_linked_customer_counts_once(clickhouse_settings):
    """After a prospect's handle is linked, a replay enriches its old mention under the customer's id: the base table
    keeps one version (its key has no customer id), the copy holds one under each id; the page counts it once."""
    from pipeline.contract.records import Identity
    from tests.integration.test_clickhouse_schema import fresh_db
    s = fresh_db(clickhouse_settings, "t_customer_paths_owner")
    w = ClickHouseWriter(s)
    c = client(s)
    try:
        pid = P_ALICE_FB
        old = mention("8", "2026-11-12T10:00:00Z", channel="facebook", author="alice.fb", customer_id=pid,
                      prospect=True, compound=-0.5, complaint=True, processed_at="2026-11-12T10:00:01Z")
        w.insert_mentions([old, mention("1", "2026-11-13T10:00:00Z", customer_id="C-1", compound=0.5)], "m")
        w.upsert_identities([("facebook:alice.fb", Identity(key="facebook:alice.fb", customer_id="C-1", name="A"))],
                            "link")
        w.insert_mentions([msgspec.structs.replace(old, customer_id="C-1", is_prospect=False,
                                                   processed_at="2026-11-20T00:00:00Z")], "replay")
        assert scalar(c, "SELECT count() FROM mentions_by_customer FINAL WHERE mention_id = 'facebook:8'") == 2
        ids = ids_of(c, "C-1")
        assert ids == ("C-1", pid)
        assert c.execute(customers.STATS_SQL, {"ids": ids})[0][0] == 2
        timeline = c.execute(customers.TIMELINE_SQL, {"ids": ids, "limit": 200})
        assert [r[2] for r in timeline] == ["twitter:1", "facebook:8"]
        assert c.execute(f"SELECT {VALUE_COLUMNS} FROM v_customer_value_of(customer_id = 'C-1')") == \
            c.execute(f"SELECT {VALUE_COLUMNS} FROM v_customer_value WHERE customer_id = 'C-1'")
        assert scalar(c, "SELECT count() FROM v_customer_timeline(customer_id = 'C-1') WHERE kind = 'mention'") == 2
    finally:
        w.close()
        c.disconnect()
