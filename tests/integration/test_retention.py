"""Retention on the real ClickHouse server (pipeline/adapters/clickhouse/retention.py, docs/retention.md): the
settings become TTLs at migrate time, only when they differ; expired text is emptied while the row keeps counting,
expired rows are deleted from the base tables and their customer-ordered copies; 0 removes the TTLs again."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.adapters.clickhouse.migrations import apply_migrations
from pipeline.adapters.clickhouse.retention import ROW_TABLES, TEXT_COLUMNS, apply_retention, current_ddl, planned_changes
from pipeline.adapters.clickhouse.writer import ClickHouseWriter
from pipeline.settings import SettingsError, validate
from tests.integration.test_clickhouse_schema import alert, fresh_db, iso, mention, scalar

pytestmark = pytest.mark.integration


def test_settings_become_ttls_once_and_expire_text_then_rows(clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_retention", retention_text_days=30, retention_rows_days=365)
    from pipeline.adapters.clickhouse.client import client
    c = client(s)
    w = ClickHouseWriter(s)
    try:
        ddl = current_ddl(c)
        assert planned_changes(s, ddl) == []  # applied by fresh_db's migrations; a second run changes nothing
        assert apply_retention(c, s) == []
        for table in ROW_TABLES:
            assert "TTL toDateTime(" in ddl[table] and "toIntervalDay(365)" in ddl[table], table
        for table, (_, cols) in TEXT_COLUMNS.items():
            for name, _ in cols:
                assert f"`{name}`" in ddl[table] and "toIntervalDay(30)" in ddl[table], (table, name)

        now = datetime.now(timezone.utc)
        rows = {age: mention(f"age{age}", iso(now - timedelta(days=age)), author=f"author{age}", customer_id="C-1",
                             complaint=True, compound=-0.5, text=f"private words {age}")
                for age in (1, 100, 400)}
        w.insert_mentions(list(rows.values()), "m")
        w.insert_alerts([alert(f"A-{age}", m) for age, m in rows.items()], "a")
        for table in ("mentions", "mentions_by_customer", "alerts", "alerts_by_customer"):
            c.execute(f"OPTIMIZE TABLE {table} FINAL")  # a merge applies the TTLs now rather than within hours
        got = c.execute("SELECT mention_id, text, author, author_name, sentiment_label, is_complaint, customer_id "
                        "FROM mentions FINAL ORDER BY created_at")
        assert got == [("twitter:age100", "", "", "", "negative", True, "C-1"),
                       ("twitter:age1", "private words 1", "author1", "", "negative", True, "C-1")]
        assert c.execute("SELECT mention_id, text, author FROM mentions_by_customer FINAL ORDER BY created_at") == \
            [("twitter:age100", "", ""), ("twitter:age1", "private words 1", "author1")]
        assert c.execute("SELECT alert_id, text FROM alerts FINAL ORDER BY created_at") == \
            [("A-100", ""), ("A-1", "private words 1")]
        assert c.execute("SELECT alert_id, text FROM alerts_by_customer FINAL ORDER BY created_at") == \
            [("A-100", ""), ("A-1", "private words 1")]
        # the emptied row still counts
        assert scalar(c, "SELECT sum(complaints) FROM v_complaint_rate") == 2

        # back to forever: the TTLs go, and a second run changes nothing
        forever = dataclasses.replace(s, retention_text_days=0, retention_rows_days=0)
        changed = apply_migrations(forever)
        assert changed == []
        ddl = current_ddl(c)
        assert all("toIntervalDay" not in ddl[t] for t in (*ROW_TABLES, *TEXT_COLUMNS))
        assert apply_retention(c, forever) == []
    finally:
        w.close()
        c.disconnect()


@pytest.mark.parametrize("changes, fragment", [
    ({"retention_rows_days": -1}, "RETENTION_ROWS_DAYS"),
    ({"retention_text_days": 400, "retention_rows_days": 365}, "no longer than its rows"),
    ({"retention_aggregate_days": 30, "retention_rows_days": 365}, "outlive the rows"),
    ({"retention_aggregate_days": 30}, "outlive the rows"),
])
def test_inconsistent_retention_is_refused_with_the_fix(clickhouse_settings, changes, fragment):
    with pytest.raises(SettingsError, match=fragment):
        validate(dataclasses.replace(clickhouse_settings, **changes))
