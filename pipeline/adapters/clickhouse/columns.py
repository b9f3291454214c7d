"""ClickHouse table contracts and the pure record → column mapping of the sink (no I/O).

The column tuples mirror schemas/clickhouse/001_base.sql; the INSERT / DELETE / reconcile statements are module
constants built from those constant names (values always travel as parameters). `mention_columns`,
`alert_columns`, … turn records into one list per column, in the order of the matching *_COLUMNS tuple, for the
columnar inserts of `pipeline.adapters.clickhouse.writer.ClickHouseWriter`; `wire_columns` turns datetimes into
DateTime64(3) ticks for one insert attempt.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional, Sequence

from pipeline import codec
from pipeline.contract.records import Alert, AlertAction, EnrichedMention, Identity
from pipeline.domain.feedback import feedback_id
from pipeline.domain.identity import influence as influence_of, split_identity_key

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
#: schemas/clickhouse/006_complaint_feedback.sql
FEEDBACK_COLUMNS = ("feedback_id", "at", "verdict", "alert_id", "mention_id", "customer_id", "brand", "channel", "by")
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
INSERT_FEEDBACK = _insert_sql("complaint_feedback", FEEDBACK_COLUMNS)
DELETE_IDENTITIES = "DELETE FROM identities WHERE identity_key IN %(keys)s"
#: The same identities in the handle-ordered copy (schemas/clickhouse/010_value_paths.sql), found by its key.
DELETE_IDENTITIES_BY_HANDLE = ("DELETE FROM identities_by_handle WHERE handle IN %(handles)s "
                               "AND identity_key IN %(keys)s")
#: An identity that left its customer (tombstone: unlink or erase) takes its prospect past back with it.
DELETE_PROSPECT_LINKS = "DELETE FROM prospect_links WHERE prospect_id IN %(ids)s"

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


def feedback_columns(rows: Sequence[AlertAction], now: Optional[datetime] = None) -> list[list]:
    """Verdict actions (not_complaint / complaint / missed_complaint) → columns in FEEDBACK_COLUMNS order, with the
    deterministic feedback_id; a verdict without `at` gets `now`."""
    now = now or utc_now()
    out = [(feedback_id(a.alert_id, a.mention_id or "", a.action, a.by), parse_ts(a.at) if a.at else now, a.action,
            a.alert_id, a.mention_id or "", a.customer_id or "", a.brand or "", a.channel or "", a.by)
           for a in rows]
    return _columns(out, len(FEEDBACK_COLUMNS))


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
