"""Retention (docs/retention.md): how long ClickHouse keeps raw text and personal data, the rows themselves, and the
rollups, as ClickHouse TTLs derived from the settings `retention_text_days`, `retention_rows_days` and
`retention_aggregate_days` (0 = forever, the default).

`apply_retention` runs after the migrations (`socialpulse migrate`, `up`): it reads each table's DDL from
`system.tables` and changes only what differs from the settings, so running it again issues nothing. A changed TTL
is materialized on the existing parts by ClickHouse in the background (a mutation), once.

- text: column TTLs empty the text and personal columns of old rows (`text`, `author`, `author_name`,
  `author_email`, `url`; an alert's `text` and `top_mentions`); the rows, their ids, sentiment, complaint flags,
  customer ids and numbers stay, so every KPI, rollup and value keeps counting them.
- rows: a row TTL deletes old mentions, alerts, alert actions and verdicts, and their customer-ordered copies, row
  by row at the next TTL merge (ClickHouse's `merge_with_ttl_timeout`, 4 h by default), not a month-sized part at a
  time: retention is a promise of "no longer than". The rollups keep the aggregates of the days removed (the rollup
  refresher never recomputes a day older than the horizon).
- aggregates: a row TTL on the rollups (at least as long as the rows).

DDL takes no query parameters: every value spliced into it is a validated integer or a name from the tables below.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Optional

from pipeline.settings import Settings

log = logging.getLogger(__name__)

#: table → (event-time column, columns emptied by the text retention with their types)
TEXT_COLUMNS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "mentions": ("created_at", (("text", "String"), ("author", "String"), ("author_name", "String"),
                                ("author_email", "String"), ("url", "String"))),
    "mentions_by_customer": ("created_at", (("text", "String"), ("author", "String"))),
    "alerts": ("created_at", (("text", "String"),
                              ("top_mentions",
                               "Array(Tuple(mention_id String, text String, sentiment_compound Float32))"))),
    "alerts_by_customer": ("created_at", (("text", "String"),
                                          ("top_mentions",
                                           "Array(Tuple(mention_id String, text String, sentiment_compound Float32))"))),
    "alerts_unresolved": ("created_at", (("text", "String"),
                                         ("top_mentions",
                                          "Array(Tuple(mention_id String, text String, sentiment_compound Float32))"))),
}
#: table → event-time column of the rows retention
ROW_TABLES: dict[str, str] = {
    "mentions": "created_at", "mentions_by_customer": "created_at", "alerts": "created_at",
    "alerts_by_customer": "created_at", "alerts_unresolved": "created_at", "alert_actions": "at",
    "complaint_feedback": "at",
}
#: table → day column of the aggregates retention (the rollups of schemas/clickhouse/008_rollups.sql)
AGGREGATE_TABLES: dict[str, str] = {"mentions_hourly": "day", "mentions_daily": "day"}


def ttl_expression(column: str, days: int) -> str:
    """The TTL expression as ClickHouse stores it in the table's DDL (so it can be compared)."""
    return f"toDateTime({column}) + toIntervalDay({int(days)})"


@dataclass(frozen=True)
class Change:
    """One ALTER to bring a table to the settings."""

    table: str
    what: str  # "rows", "aggregates" or the column name
    sql: str


def _row_ttl(ddl: str) -> Optional[str]:
    """The table's row TTL expression in its DDL (`… TTL <expr> SETTINGS …`), or None."""
    m = re.search(r"\)\s*ENGINE\b.*?\bTTL\s+(.+?)(?:\s+SETTINGS\b|$)", ddl, re.S)
    return m.group(1).strip() if m else None


def _column_ttl(ddl: str, column: str) -> Optional[str]:
    """A column's TTL expression in the DDL (`` `text` String TTL <expr>, ``), or None."""
    # the column's definition ends where the next one (", `name`") or the column list does
    m = re.search(rf"`{re.escape(column)}` (?:(?!, `|\)\s*ENGINE).)*?\bTTL\s+"
                  rf"(toDateTime\([a-z_]+\) \+ toIntervalDay\(\d+\))", ddl, re.S)
    return m.group(1) if m else None


def planned_changes(s: Settings, ddl_of: dict[str, str]) -> list[Change]:
    """The ALTERs that make the tables of `ddl_of` (table → `create_table_query`) match the settings; tables that do
    not exist (yet) are skipped. Pure: tested without a server."""
    out: list[Change] = []

    def rows(table: str, column: str, days: int, what: str) -> None:
        want = ttl_expression(column, days) if days else None
        have = _row_ttl(ddl_of[table])
        if have == want:
            return
        if want is None:
            out.append(Change(table, what, f"ALTER TABLE {table} REMOVE TTL"))
        else:
            out.append(Change(table, what, f"ALTER TABLE {table} MODIFY TTL {want}"))

    for table, (time_col, cols) in TEXT_COLUMNS.items():
        if table not in ddl_of:
            continue
        for name, type_ in cols:
            want = ttl_expression(time_col, s.retention_text_days) if s.retention_text_days else None
            if _column_ttl(ddl_of[table], name) == want:
                continue
            out.append(Change(table, name, f"ALTER TABLE {table} MODIFY COLUMN `{name}` REMOVE TTL" if want is None
                              else f"ALTER TABLE {table} MODIFY COLUMN `{name}` {type_} TTL {want}"))
    for table, col in ROW_TABLES.items():
        if table in ddl_of:
            rows(table, col, s.retention_rows_days, "rows")
    for table, col in AGGREGATE_TABLES.items():
        if table in ddl_of:
            rows(table, col, s.retention_aggregate_days, "aggregates")
    return out


def current_ddl(c: Any) -> dict[str, str]:
    tables = sorted({*TEXT_COLUMNS, *ROW_TABLES, *AGGREGATE_TABLES})
    return dict(c.execute("SELECT name, create_table_query FROM system.tables "
                          "WHERE database = currentDatabase() AND name IN %(t)s", {"t": tuple(tables)}))


def apply_retention(c: Any, s: Settings) -> list[Change]:
    """Bring the TTLs to the settings; returns what was changed (nothing when they already match)."""
    changes = planned_changes(s, current_ddl(c))
    for ch in changes:
        c.execute(ch.sql)
    if changes:
        log.info("retention applied (text %s, rows %s, aggregates %s days; 0 = forever): %s",
                 s.retention_text_days, s.retention_rows_days, s.retention_aggregate_days,
                 ", ".join(f"{ch.table}.{ch.what}" for ch in changes))
    return changes
