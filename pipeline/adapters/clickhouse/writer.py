"""ClickHouse sink (I/O adapter): records → columns (pure functions below), columnar idempotent inserts, retry
forever while ClickHouse is unavailable, and the GDPR erase path.

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
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TypeVar, Union

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

from pipeline import codec
from pipeline.adapters.clickhouse.client import client as make_client
from pipeline.domain.identity import influence as influence_of
from pipeline.domain.identity import prospect_id as prospect_id_of
from pipeline.contract.records import Alert, AlertAction, EnrichedMention, Identity
from pipeline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class _NoConnectNoise(logging.Filter):
    """Drops clickhouse-driver's per-attempt 'Failed to connect' warning (with traceback): the writer logs one
    line per outage instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to connect")


_DRIVER_LOG = logging.getLogger("clickhouse_driver.connection")
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --- table contracts (schemas/clickhouse/001_base.sql) ----------------------------------------------------------
MENTION_COLUMNS = (
    "mention_id", "source_id", "channel", "author", "author_name", "author_followers", "author_email", "brand",
    "text", "url", "lang", "in_reply_to", "metadata", "created_at", "processed_at", "sentiment_compound",
    "sentiment_pos", "sentiment_neu", "sentiment_neg", "sentiment_label", "customer_id", "is_prospect",
    "customer_tier", "customer_lifetime_value", "influence", "is_complaint", "complaint_score", "complaint_cues",
    "schema_version",
)
ALERT_COLUMNS = (
    "alert_id", "type", "severity", "reasons", "mention_id", "customer_id", "is_prospect", "brand", "channel",
    "text", "sentiment_compound", "sentiment_label", "complaint_score", "prior_complaints", "prior_window_days",
    "channels_complained_on", "customer_tier", "customer_lifetime_value", "influence", "created_at", "window_start",
    "top_mentions", "status", "assignee", "acked_at", "resolved_at", "updated_at", "schema_version",
)
ACTION_COLUMNS = ("alert_id", "action", "by", "assignee", "note", "at")
IDENTITY_COLUMNS = ("identity_key", "channel", "handle", "customer_id", "is_prospect", "updated_at")
CUSTOMER_COLUMNS = ("customer_id", "name", "tier", "lifetime_value", "followers", "influence", "updated_at")
LINK_COLUMNS = ("prospect_id", "customer_id", "linked_at")
#: Columns of an alert that come from its actions rather than from the Alert record.
ALERT_STATE_COLUMNS = ("status", "assignee", "acked_at", "resolved_at")

_UINT32_MAX = 2**32 - 1
_UINT16_MAX = 2**16 - 1


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    """`INSERT INTO table (`a`, `b`) VALUES` from the module's constant table and column names."""
    return f"INSERT INTO {table} ({', '.join(f'`{c}`' for c in columns)}) VALUES"


INSERT_MENTIONS = _insert_sql("mentions", MENTION_COLUMNS)
INSERT_ALERTS = _insert_sql("alerts", ALERT_COLUMNS)
INSERT_ACTIONS = _insert_sql("alert_actions", ACTION_COLUMNS)
INSERT_IDENTITIES = _insert_sql("identities", IDENTITY_COLUMNS)
INSERT_CUSTOMERS = _insert_sql("customers", CUSTOMER_COLUMNS)
INSERT_LINKS = _insert_sql("prospect_links", LINK_COLUMNS)
DELETE_IDENTITIES = "DELETE FROM identities WHERE identity_key IN %(keys)s"

#: The one rule that turns an alert's action log into its state: status from the latest ack/resolve (a resolve
#: wins a tie), assignee from the latest action naming one, acked_at = first ack, resolved_at = last resolve.
ALERT_STATE_SQL = """
SELECT
    alert_id,
    if(countIf(action IN ('ack', 'resolve')) = 0, 'open',
       if(argMaxIf(action, (at, action = 'resolve'), action IN ('ack', 'resolve')) = 'resolve',
          'resolved', 'acked'))                                             AS status,
    argMaxIf(assignee, at, assignee != '')                                  AS assignee,
    if(countIf(action = 'ack') = 0, NULL, minIf(at, action = 'ack'))        AS acked_at,
    if(status = 'resolved', maxIf(at, action = 'resolve'), NULL)            AS resolved_at
FROM alert_actions
WHERE alert_id IN %(ids)s
GROUP BY alert_id
"""

#: Writes a new version of every alert (of `ids`) whose stored state differs from its action log. Run after
#: inserting actions and after inserting alerts, so an alert written after its action (sink race) or replayed
#: after being acked still ends with the acted state.
RECONCILE_ALERTS_SQL = (
    f"INSERT INTO alerts ({', '.join(f'`{c}`' for c in ALERT_COLUMNS)})\nSELECT "
    + ", ".join(
        f"s.{c}" if c in ALERT_STATE_COLUMNS
        else "greatest(now64(3, 'UTC'), a.updated_at + toIntervalMillisecond(1))" if c == "updated_at"
        else f"a.{c}"
        for c in ALERT_COLUMNS)
    + f"""
FROM (SELECT * FROM alerts FINAL WHERE alert_id IN %(ids)s) AS a
INNER JOIN ({ALERT_STATE_SQL}) AS s ON a.alert_id = s.alert_id
WHERE a.status != s.status OR a.assignee != s.assignee
   OR NOT (a.acked_at IS NOT DISTINCT FROM s.acked_at) OR NOT (a.resolved_at IS NOT DISTINCT FROM s.resolved_at)"""
)


@dataclass(frozen=True)
class AlertState:
    """State of an alert derived from its actions (ALERT_STATE_SQL)."""

    status: str = "open"
    assignee: str = ""
    acked_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None


OPEN = AlertState()

# --- pure mapping ---------------------------------------------------------------------------------------------


def parse_ts(value: str) -> datetime:
    """ISO-8601 text ('…Z', '…+02:00', naive = UTC) → aware UTC datetime; ValueError when malformed."""
    dt = datetime.fromisoformat(value)
    if value.endswith("Z"):  # fast path, what our producers write: already UTC
        return dt
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def utc_now() -> datetime:
    """Current time as an aware UTC datetime, millisecond precision (what DateTime64(3) stores)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_MS = timedelta(milliseconds=1)


def to_ticks(value: Optional[datetime]) -> Optional[int]:
    """Aware datetime → milliseconds since the epoch (DateTime64(3) on the wire); exact, no float rounding."""
    return None if value is None else (value - EPOCH) // _MS


def wire_columns(columns: list[list]) -> list[list]:
    """A copy of the columns for one insert attempt, datetimes as DateTime64(3) ticks (the driver's own
    conversion is ~10x slower, and it converts values in place, so each attempt needs a fresh copy)."""
    out = []
    for col in columns:
        sample = next((v for v in col if v is not None), None)
        out.append([to_ticks(v) for v in col] if isinstance(sample, datetime) else list(col))
    return out


def _columns(rows: list[tuple], width: int) -> list[list]:
    """Row tuples → one list per column (lists: the driver converts some values in place)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(col) for col in zip(*rows)]


def _json(value: Optional[Mapping[str, Any]]) -> str:
    return "" if value is None else codec.encode(value).decode()


def mention_columns(rows: Sequence[EnrichedMention]) -> list[list]:
    """EnrichedMentions → columns in MENTION_COLUMNS order (absent optionals as '' / 0, metadata as JSON text)."""
    out = []
    for m in rows:
        s, c, k = m.sentiment, m.customer, m.complaint
        out.append((
            m.mention_id, m.id, m.channel, m.author, m.author_name or "", int(m.author_followers or 0),
            m.author_email or "", m.brand or "", m.text, m.url or "", m.lang or "", m.in_reply_to or "",
            _json(m.metadata), parse_ts(m.created_at), parse_ts(m.processed_at), float(s.compound), float(s.pos),
            float(s.neu), float(s.neg), s.label, m.customer_id, bool(m.is_prospect), c.tier,
            float(c.lifetime_value), float(c.influence), bool(k.is_complaint), float(k.score), list(k.cues),
            int(m.schema_version),
        ))
    return _columns(out, len(MENTION_COLUMNS))


def alert_columns(rows: Sequence[Alert], states: Optional[Mapping[str, AlertState]] = None,
                  updated_at: Optional[datetime] = None) -> list[list]:
    """Alerts → columns in ALERT_COLUMNS order; status/assignee from `states` (by alert id), else open."""
    states = states or {}
    updated_at = updated_at or utc_now()
    out = []
    for a in rows:
        st = states.get(a.alert_id, OPEN)
        cust = a.customer
        out.append((
            a.alert_id, a.type, a.severity, list(a.reasons), a.mention_id, a.customer_id, bool(a.is_prospect),
            a.brand or "", a.channel, a.text, float(a.sentiment.compound), a.sentiment.label,
            float(a.complaint_score), min(max(int(a.prior_complaints.count), 0), _UINT32_MAX),
            min(max(int(a.prior_complaints.window_days), 0), _UINT16_MAX), list(a.channels_complained_on),
            cust.tier if cust else ("prospect" if a.is_prospect else ""),
            float(cust.lifetime_value) if cust else 0.0, float(cust.influence) if cust else 0.0,
            parse_ts(a.created_at), parse_ts(a.window_start) if a.window_start else None,
            [(t.mention_id, t.text, float(t.sentiment_compound)) for t in a.top_mentions],
            st.status, st.assignee, st.acked_at, st.resolved_at, updated_at,
            int(a.schema_version),
        ))
    return _columns(out, len(ALERT_COLUMNS))


def action_columns(rows: Sequence[AlertAction], now: Optional[datetime] = None) -> list[list]:
    """AlertActions → columns in ACTION_COLUMNS order; an action without `at` gets `now`."""
    now = now or utc_now()
    out = [(a.alert_id, a.action, a.by, a.assignee or "", a.note or "", parse_ts(a.at) if a.at else now)
           for a in rows]
    return _columns(out, len(ACTION_COLUMNS))


def split_identity_key(key: str) -> tuple[str, str]:
    """'twitter:bob' → ('twitter', 'bob'); 'email:a@b.c' → ('email', 'a@b.c'); no ':' → ('', key)."""
    channel, sep, handle = key.partition(":")
    return (channel, handle) if sep else ("", key)


def compact_identities(items: Iterable[tuple[str, Optional[Identity]]]) -> tuple[dict[str, Identity], list[str]]:
    """Compacted-topic semantics for one batch: the last value per key wins → (keys set, keys tombstoned)."""
    last: dict[str, Optional[Identity]] = {}
    for key, value in items:
        last.pop(key, None)  # re-insert so the order is that of the last message
        last[key] = value
    sets = {k: v for k, v in last.items() if v is not None}
    return sets, [k for k, v in last.items() if v is None]


def _identity_time(ident: Identity, now: datetime) -> datetime:
    return parse_ts(ident.updated_at) if ident.updated_at else now


def identity_columns(sets: Mapping[str, Identity], now: Optional[datetime] = None) -> list[list]:
    """Customer identities (key → Identity) → columns in IDENTITY_COLUMNS order."""
    now = now or utc_now()
    out = [(key, *split_identity_key(key), ident.customer_id, False, _identity_time(ident, now))
           for key, ident in sets.items()]
    return _columns(out, len(IDENTITY_COLUMNS))


def customer_columns(idents: Iterable[Identity], now: Optional[datetime] = None) -> list[list]:
    """One customers row per customer id (the newest Identity in the batch wins) in CUSTOMER_COLUMNS order."""
    now = now or utc_now()
    latest: dict[str, tuple[datetime, Identity]] = {}
    for ident in idents:
        at = _identity_time(ident, now)
        seen = latest.get(ident.customer_id)
        if seen is None or at >= seen[0]:
            latest[ident.customer_id] = (at, ident)
    out = [(cid, i.name or "", i.tier or "standard", float(i.lifetime_value), int(i.followers or 0),
            float(influence_of(i.followers)), at) for cid, (at, i) in latest.items()]
    return _columns(out, len(CUSTOMER_COLUMNS))


def prospect_columns(items: Iterable[tuple[str, str]], now: Optional[datetime] = None) -> list[list]:
    """(identity key, prospect id) pairs → identities columns with is_prospect = true."""
    now = now or utc_now()
    out = [(key, *split_identity_key(key), pid, True, now) for key, pid in dict(items).items()]
    return _columns(out, len(IDENTITY_COLUMNS))


def link_columns(links: Iterable[tuple[str, str]], now: Optional[datetime] = None) -> list[list]:
    """(prospect id, customer id) pairs → prospect_links columns (last pair per prospect wins)."""
    now = now or utc_now()
    return _columns([(pid, cid, now) for pid, cid in dict(links).items()], len(LINK_COLUMNS))


def batch_token(kind: str, offsets: Mapping[tuple[str, int], tuple[int, int]]) -> str:
    """Dedup token of a batch: kind + sorted 'topic/partition:first-last' ranges (same batch → same token)."""
    spans = ",".join(f"{t}/{p}:{lo}-{hi}" for (t, p), (lo, hi) in sorted(offsets.items()))
    return f"{kind}|{spans}"


# --- transient errors ------------------------------------------------------------------------------------------

#: Server error codes worth waiting for: overload, timeouts, network, not-ready (database/table missing while
#: `up` migrates) and authentication (fixed by an operator without restarting the worker).
TRANSIENT_CODES = frozenset({
    3,    # UNEXPECTED_END_OF_FILE
    32,   # ATTEMPT_TO_READ_AFTER_EOF
    60,   # UNKNOWN_TABLE (migrations not applied yet)
    81,   # UNKNOWN_DATABASE
    159,  # TIMEOUT_EXCEEDED
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    203,  # NO_FREE_CONNECTION
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    236,  # ABORTED
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS
    279,  # ALL_CONNECTION_TRIES_FAILED
    319,  # UNKNOWN_STATUS_OF_INSERT
    394,  # QUERY_WAS_CANCELLED
    439,  # CANNOT_SCHEDULE_TASK
    473,  # DEADLOCK_AVOIDED
    516,  # AUTHENTICATION_FAILED
    999,  # KEEPER_EXCEPTION
})
_NETWORK_ERRORS = (ch_errors.NetworkError, ch_errors.SocketTimeoutError, ch_errors.UnexpectedPacketFromServerError,
                   OSError, EOFError)
_RETRY_CANDIDATES = _NETWORK_ERRORS + (ch_errors.ServerException,)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def is_transient(exc: BaseException) -> bool:
    """True for errors that waiting cures (network, overload, server not ready); False for bugs and bad data."""
    if isinstance(exc, ch_errors.ServerException):
        return exc.code in TRANSIENT_CODES
    return isinstance(exc, _NETWORK_ERRORS)


def describe_error(exc: BaseException) -> str:
    """One short log-safe line for an error: class, first line of the message, e-mail addresses masked."""
    message = getattr(exc, "message", None) if isinstance(exc, ch_errors.Error) else None
    lines = [ln.strip() for ln in str(message or exc).splitlines() if ln.strip()]
    text = _EMAIL_RE.sub("<email>", lines[0] if lines else "")[:200]
    code = getattr(exc, "code", None) if isinstance(exc, ch_errors.Error) else None
    head = f"{type(exc).__name__} {code}" if code else type(exc).__name__
    return f"{head}: {text}" if text else head


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
        states: dict[str, AlertState] = {}
        for chunk in chunked(ids):
            states.update(self._call(len(rows), lambda c: _alert_states(c, chunk)))
        self._insert("alerts", INSERT_ALERTS, alert_columns(rows, states), token, len(rows))
        self._reconcile(ids, len(rows))
        return len(rows)

    def apply_actions(self, rows: Sequence[AlertAction], token: str) -> int:
        """Log actions in alert_actions and write the new state of the alerts they touch; returns rows."""
        if not rows:
            return 0
        self._insert("actions", INSERT_ACTIONS, action_columns(rows), token, len(rows))
        self._reconcile(sorted({a.alert_id for a in rows}), len(rows))
        return len(rows)

    def upsert_identities(self, items: Sequence[tuple[str, Optional[Identity]]], token: str) -> int:
        """Apply `customers.identities` messages (key, Identity or None = tombstone → DELETE): identities rows,
        customers rows from the Identity attributes, and prospect_links prospect_id(key) → customer. Returns
        the number of distinct keys applied."""
        sets, tombstones = compact_identities(items)
        if tombstones:
            for chunk in chunked(tombstones):
                self._call(len(chunk), lambda c: c.execute(DELETE_IDENTITIES, {"keys": tuple(chunk)}))
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

    def _reconcile(self, ids: list[str], rows: int) -> None:
        # No dedup here: each run writes a new version (new updated_at) only where the state changed.
        for chunk in chunked(ids):
            self._call(rows, lambda c: c.execute(RECONCILE_ALERTS_SQL, {"ids": tuple(chunk)},
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
            except _RETRY_CANDIDATES as exc:
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


def _alert_states(c: Client, ids: Sequence[str]) -> dict[str, AlertState]:
    """Current action-derived state of the given alerts (only those with actions)."""
    rows = c.execute(ALERT_STATE_SQL, {"ids": tuple(ids)})
    return {r[0]: AlertState(*r[1:]) for r in rows}


# --- GDPR erase ------------------------------------------------------------------------------------------------

#: Tables erased, in order: facts first, the links that find them (identities, prospect_links) last, so an
#: interrupted erase can simply be run again.
ERASE_TABLES = ("mentions", "alerts", "alert_actions", "customers", "identities", "prospect_links")
_ERASE_WHERE = {
    "mentions": "customer_id IN %(ids)s",
    "alerts": "customer_id IN %(ids)s",
    "alert_actions": "alert_id IN %(alert_ids)s",
    "customers": "customer_id IN %(ids)s",
    "identities": "customer_id IN %(ids)s",
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
