"""ClickHouse sink writer (I/O adapter): columnar idempotent inserts, retry forever while ClickHouse is unavailable,
reconcile of alert states with their action log, verdicts on the complaint model (complaint_feedback), and the
GDPR erase path. Table contracts and the pure records → columns mapping live in
`pipeline.adapters.clickhouse.columns`; transient-error classification in `pipeline.adapters.clickhouse.errors`.

Guarantees (docs/guarantees.md): every insert carries the caller's `insert_deduplication_token` (derived from the
batch's Kafka offsets, see `batch_token`; namespaced per method here), so a retried batch is dropped by the
server; a batch replayed with another token is collapsed by ReplacingMergeTree (read through FINAL / the v_*
views). A token must identify the batch's content: the server drops a second insert with a known token.
Rows are never dropped: transient errors are retried with exponential backoff until they succeed or `stop()` is
called, which raises `WriterStopped` so the caller does not commit offsets. One warning is logged when an outage
starts, one info line when it ends. All methods block; call them from a worker thread (`asyncio.to_thread`).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence, TypeVar, Union

from clickhouse_driver import Client

from pipeline.adapters.clickhouse.client import client as make_client
from pipeline.adapters.clickhouse.columns import (ALERT_STATE_SQL, DELETE_IDENTITIES, DELETE_IDENTITIES_BY_HANDLE,
                                                  DELETE_PROSPECT_LINKS,
                                                  INSERT_ACTIONS, INSERT_ALERTS, INSERT_CUSTOMERS, INSERT_FEEDBACK,
                                                  INSERT_IDENTITIES, INSERT_LINKS, INSERT_MENTIONS,
                                                  RECONCILE_ALERTS_SQL, OPEN, AlertState, action_columns, alert_columns,
                                                  compact_identities, customer_columns, feedback_columns,
                                                  identity_columns, link_columns, mention_columns, prospect_columns,
                                                  utc_now, wire_columns)
from pipeline.adapters.clickhouse.errors import RETRY_CANDIDATES, describe_error, is_transient
from pipeline.contract.records import Alert, AlertAction, EnrichedMention, Identity
from pipeline.domain.identity import prospect_id as prospect_id_of, split_identity_key
from pipeline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class _NoConnectNoise(logging.Filter):
    """Drops clickhouse-driver's per-attempt 'Failed to connect' warning (with traceback): the writer logs one
    line per outage instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to connect")


_DRIVER_LOG = logging.getLogger("clickhouse_driver.connection")


def batch_token(kind: str, offsets: Mapping[tuple[str, int], tuple[int, int]]) -> str:
    """Dedup token of a batch: kind + sorted 'topic/partition:first-last' ranges (same batch → same token)."""
    spans = ",".join(f"{t}/{p}:{lo}-{hi}" for (t, p), (lo, hi) in sorted(offsets.items()))
    return f"{kind}|{spans}"


# --- the writer ------------------------------------------------------------------------------------------------


class WriterStopped(RuntimeError):
    """`stop()` was called while rows were waiting for ClickHouse: they were NOT written (do not commit)."""


@dataclass(frozen=True)
class Outage:
    """Reported to `on_outage` when ClickHouse becomes unavailable (active) and available again (not active)."""

    active: bool
    seconds: float
    rows_held: int
    reason: str


_FIRST_BACKOFF = 0.2


#: Ids per `IN %(ids)s` query: 5,000 alert ids inline would exceed ClickHouse's 256 KiB max_query_size.
IDS_PER_QUERY = 1000


def chunked(ids: Sequence[str], size: int = IDS_PER_QUERY) -> list[Sequence[str]]:
    """`ids` in consecutive slices of at most `size`."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


class ClickHouseWriter:
    """Blocking, thread-safe writer of the sink tables (one connection per calling thread)."""

    def __init__(self, settings: Settings, *, on_outage: Optional[Callable[[Outage], None]] = None,
                 client_factory: Optional[Callable[[], Client]] = None):
        self.settings = settings
        self._on_outage = on_outage
        self._factory = client_factory or (lambda: make_client(settings))
        self._local = threading.local()
        self._clients: list[Client] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._outage_since: Optional[float] = None
        self._outage_rows = 0
        self._outage_reason = ""
        if not any(isinstance(f, _NoConnectNoise) for f in _DRIVER_LOG.filters):
            _DRIVER_LOG.addFilter(_NoConnectNoise())

    # -- public API -------------------------------------------------------------------------------------------
    def insert_mentions(self, rows: Sequence[EnrichedMention], token: str) -> int:
        """Insert enriched mentions (one columnar insert, dedup `token`); returns the number of rows."""
        if not rows:
            return 0
        self._insert("mentions", INSERT_MENTIONS, mention_columns(rows), token, len(rows), types_check=False)
        return len(rows)

    def insert_alerts(self, rows: Sequence[Alert], token: str) -> int:
        """Insert alerts with the state their actions already give them, then reconcile; returns rows."""
        if not rows:
            return 0
        ids = sorted({a.alert_id for a in rows})
        states = self._states(ids, len(rows))
        self._insert("alerts", INSERT_ALERTS, alert_columns(rows, states), token, len(rows))
        # The rows just written carry the state of their actions as read above; only an action logged since (the
        # action stage runs concurrently) can make one stale. Those alerts, and only those, are reconciled: no
        # `alerts FINAL` read for a batch whose actions did not move (the apply_actions of a later action reads
        # this batch's rows and reconciles them, so nothing is missed either way).
        after = self._states(ids, len(rows))
        self._reconcile([i for i in ids if after.get(i, OPEN) != states.get(i, OPEN)], len(rows))
        return len(rows)

    def apply_actions(self, rows: Sequence[AlertAction], token: str) -> int:
        """Log actions in alert_actions and write the new state of the alerts they touch; returns rows."""
        if not rows:
            return 0
        self._insert("actions", INSERT_ACTIONS, action_columns(rows), token, len(rows))
        self._reconcile(sorted({a.alert_id for a in rows}), len(rows))
        return len(rows)

    def insert_feedback(self, rows: Sequence[AlertAction], token: str) -> int:
        """Write verdict actions to complaint_feedback (one row per feedback_id, see columns.feedback_columns);
        returns rows."""
        if not rows:
            return 0
        self._insert("feedback", INSERT_FEEDBACK, feedback_columns(rows), token, len(rows))
        return len(rows)

    def upsert_identities(self, items: Sequence[tuple[str, Optional[Identity]]], token: str) -> int:
        """Apply `customers.identities` messages (key, Identity or None = tombstone → DELETE): identities rows,
        customers rows from the Identity attributes, and prospect_links prospect_id(key) → customer (a tombstone
        deletes the key's prospect link too: an unlinked handle's past goes back to its prospect). Returns
        the number of distinct keys applied."""
        sets, tombstones = compact_identities(items)
        if tombstones:
            for chunk in chunked(tombstones):
                self._call(len(chunk), lambda c: c.execute(DELETE_IDENTITIES, {"keys": tuple(chunk)}))
                by_handle = {"handles": tuple({split_identity_key(k)[1] for k in chunk}), "keys": tuple(chunk)}
                self._call(len(chunk), lambda c: c.execute(DELETE_IDENTITIES_BY_HANDLE, by_handle))
                pids = tuple(prospect_id_of(k) for k in chunk)
                self._call(len(chunk), lambda c: c.execute(DELETE_PROSPECT_LINKS, {"ids": pids}))
        if sets:
            now = utc_now()
            n = len(sets)
            self._insert("identities", INSERT_IDENTITIES, identity_columns(sets, now), token, n)
            self._insert("customers", INSERT_CUSTOMERS, customer_columns(sets.values(), now), token, n)
            links = [(prospect_id_of(key), ident.customer_id) for key, ident in sets.items()]
            self._insert("identity-links", INSERT_LINKS, link_columns(links, now), token, n)
        return len(sets) + len(tombstones)

    def upsert_prospects(self, items: Sequence[tuple[str, str]], token: str) -> int:
        """Record unknown authors: (identity key, prospect id) → identities rows with is_prospect (a customer's
        row for the same key always outranks them). Returns rows."""
        if not items:
            return 0
        cols = prospect_columns(items)
        self._insert("prospects", INSERT_IDENTITIES, cols, token, len(cols[0]))
        return len(cols[0])

    def link_prospects(self, links: Sequence[tuple[str, str]], token: str) -> int:
        """Record (prospect id, customer id) links: a prospect whose handle later joined a customer. Returns rows."""
        if not links:
            return 0
        cols = link_columns(links)
        self._insert("links", INSERT_LINKS, cols, token, len(cols[0]))
        return len(cols[0])

    def stop(self) -> None:
        """Make retry loops give up: a call waiting for ClickHouse (now or later) raises WriterStopped."""
        self._stopping.set()

    def close(self) -> None:
        """Disconnect every connection this writer opened."""
        with self._lock:
            clients, self._clients = self._clients, []
        for c in clients:
            c.disconnect()

    @property
    def in_outage(self) -> bool:
        return self._outage_since is not None

    # -- internals --------------------------------------------------------------------------------------------
    def _insert(self, kind: str, sql: str, columns: list[list], token: str, rows: int, *,
                types_check: bool = True) -> None:
        # The kind prefix keeps two methods that write one table (prospects and identities, links) from
        # dropping each other's batch when a caller derives their tokens from the same offsets.
        settings = {"insert_deduplication_token": f"{kind}/{token}"}
        self._call(rows, lambda c: c.execute(sql, wire_columns(columns), columnar=True,
                                             types_check=types_check, settings=settings))

    def _states(self, ids: Sequence[str], rows: int) -> dict[str, AlertState]:
        states: dict[str, AlertState] = {}
        for chunk in chunked(ids):
            states.update(self._call(rows, lambda c: _alert_states(c, chunk)))
        return states

    def _reconcile(self, ids: list[str], rows: int) -> None:
        # No dedup here: each run writes a new version (new updated_at) only where the state changed. The alerts'
        # partitions are looked up first (a read of alert_id alone): `alerts FINAL` does not prune partitions by a
        # column filter, so without `_partition_id` every partition's granules around the ids were read in full.
        for chunk in chunked(ids):
            ids_ = {"ids": tuple(chunk)}
            found = self._call(rows, lambda c: c.execute(ALERT_PARTITIONS_SQL, ids_))
            if not found:  # none stored yet (an action before its alert): insert_alerts applies its state
                continue
            params = {**ids_, "partitions": tuple(sorted(r[0] for r in found))}
            self._call(rows, lambda c: c.execute(RECONCILE_IN_PARTITIONS_SQL, params,
                                                 settings={"insert_deduplicate": 0}))

    def _client(self) -> Client:
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = self._factory()
            with self._lock:
                self._clients.append(c)
        return c

    def _call(self, rows: int, fn: Callable[[Client], T]) -> T:
        """Run `fn(client)`; on transient errors wait (exponential backoff, capped) and retry until it succeeds."""
        cap = max(self.settings.sink_retry_max_backoff, 0.01)
        delay = min(_FIRST_BACKOFF, cap)
        waiting = False
        while True:
            c = self._client()
            try:
                result = fn(c)
            except RETRY_CANDIDATES as exc:
                if not is_transient(exc):
                    raise
                c.disconnect()  # the next attempt reconnects
                if not waiting:
                    waiting = True
                    self._outage_begins(rows, exc)
                if self._stopping.is_set() or self._stopping.wait(delay * random.uniform(0.8, 1.0)):
                    raise WriterStopped(f"ClickHouse writer stopped; {rows} rows were not written") from exc
                delay = min(delay * 2, cap)
                continue
            if waiting:
                self._outage_ends()
            return result

    def _outage_begins(self, rows: int, exc: BaseException) -> None:
        with self._lock:
            self._outage_rows += rows
            if self._outage_since is not None:
                return
            self._outage_since = time.monotonic()
            self._outage_reason = describe_error(exc)
            held = self._outage_rows
        s = self.settings
        log.warning("ClickHouse %s:%s unavailable (%s); holding %d rows and retrying with backoff up to %gs",
                    s.clickhouse_host, s.clickhouse_port, self._outage_reason, held, s.sink_retry_max_backoff)
        self._notify(Outage(True, 0.0, held, self._outage_reason))

    def _outage_ends(self) -> None:
        with self._lock:
            if self._outage_since is None:
                return
            seconds = time.monotonic() - self._outage_since
            held, reason = self._outage_rows, self._outage_reason
            self._outage_since, self._outage_rows = None, 0
        s = self.settings
        log.info("ClickHouse %s:%s available again after %.1fs; writing the %d rows held", s.clickhouse_host,
                 s.clickhouse_port, seconds, held)
        self._notify(Outage(False, seconds, held, reason))

    def _notify(self, event: Outage) -> None:
        if self._on_outage is None:
            return
        try:
            self._on_outage(event)
        except Exception:  # a broken observer must not break the sink
            log.exception("on_outage callback failed")


#: The partitions holding any version of the given alerts (versions of one alert normally share created_at, so one
#: partition; a spike alert re-raised another month has versions in two, and both are listed).
ALERT_PARTITIONS_SQL = "SELECT DISTINCT _partition_id FROM alerts WHERE alert_id IN %(ids)s"
_RECONCILE_READ = "FROM alerts FINAL WHERE alert_id IN %(ids)s"
if RECONCILE_ALERTS_SQL.count(_RECONCILE_READ) != 1:  # pragma: no cover - columns.py changed its reconcile read
    raise RuntimeError("RECONCILE_ALERTS_SQL no longer reads `alerts FINAL WHERE alert_id IN %(ids)s`")
#: RECONCILE_ALERTS_SQL reading only the partitions found by ALERT_PARTITIONS_SQL (FINAL prunes by `_partition_id`).
RECONCILE_IN_PARTITIONS_SQL = RECONCILE_ALERTS_SQL.replace(
    _RECONCILE_READ, _RECONCILE_READ + " AND _partition_id IN %(partitions)s")


def _alert_states(c: Client, ids: Sequence[str]) -> dict[str, AlertState]:
    """Current action-derived state of the given alerts (only those with actions)."""
    rows = c.execute(ALERT_STATE_SQL, {"ids": tuple(ids)})
    return {r[0]: AlertState(*r[1:]) for r in rows}


# --- GDPR erase ------------------------------------------------------------------------------------------------

#: Tables erased, in order: facts first (the verdicts before the mentions they name), the links that find them
#: (identities, prospect_links) last, so an interrupted erase can simply be run again.
ERASE_TABLES = ("complaint_feedback", "mentions", "mentions_by_customer", "alerts", "alerts_by_customer",
                "alerts_unresolved", "alert_actions", "customers", "identity_links", "identities",
                "identities_by_handle", "prospect_links")
_ERASE_WHERE = {
    # the verdicts carry the mention's customer id; the mentions' own ids catch a verdict whose mention changed hands
    "complaint_feedback": "customer_id IN %(ids)s OR mention_id IN (SELECT mention_id FROM mentions "
                          "WHERE customer_id IN %(ids)s)",
    "mentions": "customer_id IN %(ids)s",
    "mentions_by_customer": "customer_id IN %(ids)s",
    "alerts": "customer_id IN %(ids)s",
    "alerts_by_customer": "customer_id IN %(ids)s",
    "alerts_unresolved": "customer_id IN %(ids)s",
    "alert_actions": "alert_id IN %(alert_ids)s",
    "customers": "customer_id IN %(ids)s",
    "identity_links": "customer_id IN %(ids)s OR previous_customer_id IN %(ids)s OR prospect_id IN %(ids)s",
    "identities": "customer_id IN %(ids)s",
    "identities_by_handle": "customer_id IN %(ids)s",
    "prospect_links": "customer_id IN %(ids)s OR prospect_id IN %(ids)s",
}


def erase_ids(c: Client, customer_id: str) -> list[str]:
    """The customer id plus every prospect id that is (or was derived from a handle that is) the customer's."""
    params = {"id": customer_id}
    linked = c.execute("SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = %(id)s", params)
    keys = c.execute("SELECT identity_key FROM identities FINAL WHERE customer_id = %(id)s AND NOT is_prospect",
                     params)
    return sorted({customer_id, *(r[0] for r in linked), *(prospect_id_of(r[0]) for r in keys)})


def erase_customer(target: Union[Settings, Client], customer_id: str, *, purge: bool = False) -> dict[str, int]:
    """GDPR erase: lightweight DELETE of every row of the customer (and of its prospect ids) in ERASE_TABLES;
    returns rows removed per table (stored rows, older versions included). `purge` also rewrites the affected
    parts (ALTER TABLE … APPLY DELETED MASK) so the data is physically gone now rather than at the next merge."""
    if not customer_id:
        raise ValueError("customer_id is empty")
    c = make_client(target) if isinstance(target, Settings) else target
    try:
        ids = tuple(erase_ids(c, customer_id))
        alert_ids = tuple(r[0] for r in c.execute(
            "SELECT DISTINCT alert_id FROM alerts WHERE customer_id IN %(ids)s", {"ids": ids}))
        params = {"ids": ids, "alert_ids": alert_ids}
        from pipeline.adapters.clickhouse.rollups import mark_customer_days  # the rollups recompute their days
        mark_customer_days(c, ids)
        removed: dict[str, int] = {}
        for table in ERASE_TABLES:
            if table == "alert_actions" and not alert_ids:
                removed[table] = 0
                continue
            where = _ERASE_WHERE[table]
            n = c.execute(f"SELECT count() FROM {table} WHERE {where}", params)[0][0]
            if n:
                c.execute(f"DELETE FROM {table} WHERE {where}", params, settings={"lightweight_deletes_sync": 2})
                if purge:
                    c.execute(f"ALTER TABLE {table} APPLY DELETED MASK", settings={"mutations_sync": 2})
            removed[table] = int(n)
        log.info("erased customer data: %s", ", ".join(f"{t}={n}" for t, n in removed.items()))
        return removed
    finally:
        if isinstance(target, Settings):
            c.disconnect()
