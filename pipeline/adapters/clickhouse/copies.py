"""The derived copies kept by materialized views (docs/analytics.md): the customer-ordered `mentions_by_customer`
and `alerts_by_customer` (007), the handle-ordered `identities_by_handle` (010) and `alerts_unresolved` (009).

A materialized view only sees new inserts: after restoring the base tables from a backup, or on a server where the
copies were dropped, `copy_all` fills each copy again from its base table with the view's own SELECT (read from
`system.tables`, so the copy is exactly what the view would have written). Copies are ReplacingMergeTree tables with
the base tables' versions, so writing rows that are already there only adds versions that merges collapse: it is
safe while the pipeline keeps writing, and safe to run twice. Blocking calls on a clickhouse-driver Client.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

#: materialized view → (the copy it maintains, its base table)
COPIES: dict[str, tuple[str, str]] = {
    "mv_mentions_by_customer": ("mentions_by_customer", "mentions"),
    "mv_alerts_by_customer": ("alerts_by_customer", "alerts"),
    "mv_alerts_unresolved": ("alerts_unresolved", "alerts"),
    "mv_identities_by_handle": ("identities_by_handle", "identities"),
}


def view_selects(c: Any) -> dict[str, str]:
    """Materialized view → its SELECT, for the views of COPIES that exist in the current database."""
    return dict(c.execute("SELECT name, as_select FROM system.tables WHERE database = currentDatabase() "
                          "AND name IN %(names)s", {"names": tuple(COPIES)}))


def rows_to_copy(c: Any) -> dict[str, int]:
    """Copy → rows stored in its base table (all versions: what a copy reads)."""
    return {COPIES[view][0]: int(c.execute(f"SELECT count() FROM {COPIES[view][1]}")[0][0])
            for view in sorted(view_selects(c))}


def copy_all(c: Any, progress: Optional[Callable[[str, int], None]] = None) -> dict[str, int]:
    """Write every base row into its copy again (see the module doc); returns rows read per copy. `progress(copy,
    rows)` is called with the rows read since the previous call, from the server's progress packets."""
    done: dict[str, int] = {}
    for view, select in sorted(view_selects(c).items()):
        target = COPIES[view][0]
        result = c.execute_with_progress(f"INSERT INTO {target} {select}")
        read = 0
        for read_rows, _total in result:
            if progress is not None and read_rows > read:
                progress(target, read_rows - read)
            read = max(read, read_rows)
        result.get_result()
        done[target] = read
    return done
