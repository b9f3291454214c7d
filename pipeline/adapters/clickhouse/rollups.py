"""Dirty-day rollups (schemas/clickhouse/008_rollups.sql, docs/analytics.md): refresh settled days of
`mentions_hourly` / `mentions_daily` from `mentions FINAL`, mark the days GDPR erase touches, rebuild everything.

The KPI views read the rollup rows of *clean* days (latest refresh >= latest mark) and aggregate the *dirty* days from
the base table, so their numbers never depend on whether, when or how often this code ran: it only moves days from
the slow path to the fast one. A day is marked by every insert block into `mentions` (materialized view) and by
`mark_customer_days` before an erase.

Refreshing is idempotent and safe to run from several processes at once: two refreshes of a day write the same
numbers for the same state, ReplacingMergeTree keeps the row of the highest version, the stale-group DELETE only
removes rows older than its own version, and the views count a rollup row only if its version is at least the day's
latest mark — a row written by a slower refresh that read an older state is ignored, whatever the order of writes.

Blocking calls on a clickhouse-driver Client (I/O adapter).
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Optional, Sequence

log = logging.getLogger(__name__)

#: Seconds after its last mark before a day is refreshed, and how far behind the server clock a refresh's version
#: is set. An insert (or erase) must become visible within this margin of its mark: a refresh that starts reading
#: at T covers exactly the marks up to T − margin. The day being written stays dirty (read from the base table).
SETTLE_SECONDS = 120.0

ROLLUP_TABLES = ("mentions_hourly", "mentions_daily")

_HOURLY_COLUMNS = "day, hour, brand, channel, mentions, compound_sum, positive, negative, complaints"
_DAILY_COLUMNS = ("day, brand, mentions, complaints, positive, negative, customer_mentions, prospect_mentions, "
                  "customer_net, prospect_net, original_posts, distinct_people, distinct_customers, "
                  "distinct_prospects, authors, complainers")
#: table → INSERT … SELECT of one day's groups from the base aggregation (v_*_base reads `mentions FINAL`; the day
#: filter reaches the base table's key: only that day's granules are read).
_REFRESH_SQL = {
    table: f"INSERT INTO {table} ({cols}, version) SELECT {cols}, toDateTime64(%(v)s, 3, 'UTC') "
           f"FROM v_{table}_base WHERE day = toDate(%(day)s)"
    for table, cols in (("mentions_hourly", _HOURLY_COLUMNS), ("mentions_daily", _DAILY_COLUMNS))
}
_PENDING_MUTATIONS_SQL = ("SELECT count() FROM system.mutations WHERE database = currentDatabase() "
                          "AND table = 'mentions' AND NOT is_done")


def _version(c: Any, settle_seconds: float) -> str:
    """Server time minus the settle margin, as 'YYYY-MM-DD hh:mm:ss.fff' (the refresh's version)."""
    return c.execute("SELECT toString(now64(3, 'UTC') - toIntervalMillisecond(%(ms)s))",
                     {"ms": int(settle_seconds * 1000)})[0][0]


def dirty_days(c: Any, settle_seconds: float = SETTLE_SECONDS, *, oldest: Optional[date] = None) -> list[date]:
    """Dirty days whose latest mark is older than the settle margin (oldest first), from `oldest` on if given: the
    days a refresh can make clean now. A day still being written is left out and keeps being read from the base
    table."""
    rows = c.execute(
        "SELECT day FROM v_rollup_dirty_days "
        "WHERE marked_at < now64(3, 'UTC') - toIntervalMillisecond(%(ms)s) AND day >= toDate(%(oldest)s) "
        "ORDER BY day", {"ms": int(settle_seconds * 1000), "oldest": (oldest or date(1970, 1, 1)).isoformat()})
    return [r[0] for r in rows]


def refresh_day(c: Any, day: date, *, settle_seconds: float = SETTLE_SECONDS) -> bool:
    """Recompute one day of both rollups from `mentions FINAL` and record the refresh; False if skipped.

    Steps: take the version v = server now − settle margin BEFORE reading; skip (False) while a mutation of
    `mentions` runs (an erase in progress: its days were marked before the DELETE, which may take longer than the
    margin); INSERT … SELECT the day's groups into both rollups with version v; delete, with a lightweight DELETE,
    the day's rows older than v when FINAL still shows such a row (a group that no longer exists: erased, or a
    replay moved a mention to another brand); then insert (day, v) into rollup_refreshes, which makes the day clean
    unless it was marked after v. A crash anywhere before that last insert leaves the day dirty: readers keep
    reading it from the base table, and the next refresh writes it again. Rows a crashed refresh did write carry
    the current numbers of their groups or are ignored by the views (version below the day's latest mark)."""
    v = _version(c, settle_seconds)
    if c.execute(_PENDING_MUTATIONS_SQL)[0][0]:
        log.info("rollup refresh of %s postponed: a mutation of mentions (an erase?) is still running", day)
        return False
    params = {"v": v, "day": day.isoformat()}
    for table in ROLLUP_TABLES:
        c.execute(_REFRESH_SQL[table], params)
    for table in ROLLUP_TABLES:
        stale = c.execute(f"SELECT count() FROM {table} FINAL WHERE day = toDate(%(day)s) "
                          "AND version < toDateTime64(%(v)s, 3, 'UTC')", params)[0][0]
        if stale:
            # physical clean-up only, so it does not wait for its mutation: a stale row's version is below the day's
            # latest mark (the mark that made this refresh necessary, or rebuild's), so the views skip it already
            c.execute(f"DELETE FROM {table} WHERE day = toDate(%(day)s) AND version < toDateTime64(%(v)s, 3, 'UTC')",
                      params, settings={"lightweight_deletes_sync": 0})
    c.execute("INSERT INTO rollup_refreshes (day, refreshed_at) SELECT toDate(%(day)s), toDateTime64(%(v)s, 3, 'UTC')",
              params)
    return True


def keep_day(c: Any, day: date, *, settle_seconds: float = SETTLE_SECONDS) -> bool:
    """Make a dirty day older than the rows retention clean again WITHOUT recomputing it: its base rows are gone
    (TTL) or going, so the rollup is what remains of it, and a late or replayed mention of that day (itself expired
    at the next TTL merge) must not replace the day's aggregates by its own. The day's rollup rows are written again
    with a new version (the views count a row only if its version is at least the day's latest mark), then the
    refresh is recorded. A day without rollup rows is recomputed instead (nothing to keep). False if skipped."""
    if not c.execute("SELECT count() FROM mentions_daily FINAL WHERE day = toDate(%(day)s)",
                     {"day": day.isoformat()})[0][0]:
        return refresh_day(c, day, settle_seconds=settle_seconds)
    v = _version(c, settle_seconds)
    params = {"v": v, "day": day.isoformat()}
    for table, cols in (("mentions_hourly", _HOURLY_COLUMNS), ("mentions_daily", _DAILY_COLUMNS)):
        c.execute(f"INSERT INTO {table} ({cols}, version) SELECT {cols}, toDateTime64(%(v)s, 3, 'UTC') "
                  f"FROM {table} FINAL WHERE day = toDate(%(day)s)", params)
    c.execute("INSERT INTO rollup_refreshes (day, refreshed_at) SELECT toDate(%(day)s), toDateTime64(%(v)s, 3, 'UTC')",
              params)
    return True


def refresh_dirty(c: Any, settle_seconds: float = SETTLE_SECONDS, *, oldest: Optional[date] = None) -> int:
    """Refresh every settled dirty day (see `dirty_days`) from `oldest` on, and keep (`keep_day`) the settled dirty
    days before `oldest` (the rows retention horizon); returns the number of days made clean."""
    done = sum(refresh_day(c, d, settle_seconds=settle_seconds) for d in dirty_days(c, settle_seconds, oldest=oldest))
    if oldest is not None:
        done += sum(keep_day(c, d, settle_seconds=settle_seconds) for d in dirty_days(c, settle_seconds)
                    if d < oldest)
    return done


def mark_customer_days(c: Any, ids: Sequence[str]) -> None:
    """Mark dirty every day with a mention of these customer / prospect ids: called by GDPR erase before its
    DELETEs (a delete does not run the materialized view that marks inserts), so the next refresh recomputes those
    days without the person and, until then, the views read them from the base table."""
    if ids:
        c.execute("INSERT INTO rollup_dirty_days (day, marked_at) SELECT DISTINCT toDate(created_at), "
                  "now64(3, 'UTC') FROM mentions WHERE customer_id IN %(ids)s", {"ids": tuple(ids)})


def rebuild_days(c: Any, oldest: Optional[date] = None) -> list[date]:
    """Every day that has mentions or rollup rows, from `oldest` on: what `rebuild` recomputes."""
    return [r[0] for r in c.execute(
        "SELECT day FROM (SELECT DISTINCT toDate(created_at) AS day FROM mentions "
        "UNION DISTINCT SELECT DISTINCT day FROM mentions_daily UNION DISTINCT SELECT DISTINCT day FROM mentions_hourly) "
        "WHERE day >= toDate(%(since)s) ORDER BY day", {"since": (oldest or date(1970, 1, 1)).isoformat()})]


def rebuild(c: Any, progress: Optional[Callable[[date, int, int], None]] = None, *,
            settle_seconds: float = SETTLE_SECONDS, oldest: Optional[date] = None,
            days: Optional[Sequence[date]] = None) -> int:
    """Recompute every day of `rebuild_days` (or the given `days`) — for restores and upgrades; `progress(day, done,
    total)` is called after each day. Returns the number of days refreshed (a day postponed by a running mutation
    is left dirty for the refresher).

    It first marks all those days at v0 = now − settle margin: rollup rows written before (a restored or older
    copy) then no longer count, so the views are exact from the start (dirty days are read from the base table) and
    become fast day by day. Days older than `oldest` are left as they are (rows retention: their base rows may be
    gone, the rollup is what remains)."""
    v0 = _version(c, settle_seconds)
    days = list(rebuild_days(c, oldest) if days is None else days)
    if days:
        c.execute("INSERT INTO rollup_dirty_days (day, marked_at) SELECT arrayJoin(%(days)s), "
                  "toDateTime64(%(v)s, 3, 'UTC')", {"days": [d.isoformat() for d in days], "v": v0})
    done = 0
    for i, day in enumerate(days, 1):
        done += refresh_day(c, day, settle_seconds=settle_seconds)
        if progress is not None:
            progress(day, i, len(days))
    return done


def status(c: Any) -> dict[str, Any]:
    """Counts of dirty and clean days, the oldest dirty day and the latest refresh (for `analytics status`)."""
    dirty, clean, oldest, latest = c.execute(
        "SELECT countIf(NOT clean), countIf(clean), minIf(day, NOT clean), max(refreshed_at) FROM v_rollup_days")[0]
    return {"dirty_days": int(dirty), "clean_days": int(clean), "oldest_dirty_day": oldest if dirty else None,
            "latest_refresh": latest if clean else None}


def retention_horizon(rows_days: int, today: Optional[date] = None) -> Optional[date]:
    """First day the refresher may recompute under a rows retention of `rows_days` (0 = forever → None): older
    days may have lost base rows to the TTL, their rollup is what remains."""
    if rows_days <= 0:
        return None
    return (today or datetime.now(timezone.utc).date()) - timedelta(days=rows_days - 1)
