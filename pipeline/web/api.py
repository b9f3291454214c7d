"""The dashboard's JSON API: the ClickHouse queries (parameterized SQL only, run in worker threads), the records
turned into what the page shows (`alert_view`, `alert_view_from_row`, `action_view`, `sentiment_series`) and the
handlers for /api/alerts, /api/alerts/{id}/{ack,resolve}, /api/kpis and /api/sentiment. /api/stream is in `feed`;
the verdicts on the complaint model and measured precision are in `feedback`.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import re
from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

from aiohttp import web

from pipeline import metrics
from pipeline.codec import encode
from pipeline.adapters.clickhouse.feedback_sql import ALERT_VERDICTS_SQL
from pipeline.contract.records import Alert, AlertAction
from pipeline.domain.feedback import VERDICTS
from pipeline.domain.mention import to_iso
from pipeline.settings import Settings
from pipeline.web.status import BrandsCheck

log = logging.getLogger(__name__)

SNAPSHOT_LIMIT = 100
KPI_WINDOW_MINUTES = 5
MAX_CHART_BRANDS = 8
ACTIONS = ("ack", "resolve")
_ALERT_ID_RE = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable ASCII, no spaces: what alert ids are made of

# --- ClickHouse queries (parameters only through %(name)s) ----------------------------------------------------
# Alerts waiting for someone are read from alerts_unresolved (migration 009: the alerts whose current version is not
# resolved; same rows as `alerts FINAL WHERE status != 'resolved'` without reading the resolved ones); the KPI window
# on processed_at is served by the minmax skip index idx_processed_at of the same migration. Its exact mode under
# FINAL is off: it would add back every granule whose key range meets a selected one (most of the table, measured),
# and this filter is exact without it, being on the version column (see 009_dashboard_paths.sql).
ALERT_VIEW_COLUMNS = (
    "alert_id", "type", "severity", "reasons", "mention_id", "customer_id", "is_prospect", "brand", "channel", "text",
    "sentiment_compound", "complaint_score", "prior_complaints", "prior_window_days", "channels_complained_on",
    "customer_tier", "customer_lifetime_value", "influence", "created_at", "status", "assignee", "window_start",
    "top_mentions",
)
SNAPSHOT_SQL = f"""
SELECT {', '.join(ALERT_VIEW_COLUMNS)}
FROM alerts_unresolved FINAL
WHERE status IN ('open', 'acked')
ORDER BY type = 'spike' DESC, created_at DESC
LIMIT %(limit)s
"""
ALERT_EXISTS_SQL = """
SELECT count() FROM alerts FINAL WHERE alert_id = %(id)s
"""
KPI_MENTIONS_SQL = f"""
SELECT count() AS mentions,
       countIf(sentiment_label = 'negative') AS negative,
       countIf(is_complaint) AS complaints
FROM mentions FINAL
WHERE processed_at >= now64(3, 'UTC') - toIntervalMinute({KPI_WINDOW_MINUTES})
  AND (%(brand)s = '' OR brand = %(brand)s)
SETTINGS use_skip_indexes_if_final_exact_mode = 0
"""
KPI_ALERTS_SQL = """
SELECT countIf(status = 'open') AS open,
       countIf(status = 'open' AND severity = 'critical') AS critical_open,
       countIf(status = 'acked') AS acked
FROM alerts_unresolved FINAL
WHERE (%(brand)s = '' OR brand = %(brand)s)
"""
SENTIMENT_SQL = """
SELECT toStartOfHour(created_at) AS hour, brand, count() AS mentions, avg(sentiment_compound) AS avg_compound
FROM mentions FINAL
WHERE created_at >= toStartOfHour(now64(3, 'UTC') - toIntervalHour(%(hours)s - 1))
  AND brand != '' AND (%(brand)s = '' OR brand = %(brand)s)
GROUP BY hour, brand
ORDER BY hour, brand
"""


# --- record → what the page shows --------------------------------------------------------------------------------

def iso(value: Any) -> str:
    if isinstance(value, datetime):
        return to_iso(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return str(value)


def alert_view_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A row of SNAPSHOT_SQL → the JSON object the page renders."""
    v = dict(zip(ALERT_VIEW_COLUMNS, row))
    v["reasons"] = list(v["reasons"])
    v["channels_complained_on"] = list(v["channels_complained_on"])
    v["created_at"] = iso(v["created_at"])
    v["is_prospect"] = bool(v["is_prospect"])
    for k in ("sentiment_compound", "complaint_score", "influence"):
        v[k] = round(float(v[k]), 3)
    v["customer_lifetime_value"] = float(v["customer_lifetime_value"])
    v["window_start"] = iso(v["window_start"]) if v["window_start"] is not None else None
    v["top_mentions"] = [{"mention_id": m, "text": t, "sentiment_compound": round(float(c), 3)}
                         for m, t, c in v["top_mentions"]]
    return v


def alert_view(alert: Alert, status: str = "open") -> dict[str, Any]:
    """An Alert from alerts.complaints → the same JSON object as `alert_view_from_row`."""
    ctx = alert.customer
    return {
        "alert_id": alert.alert_id, "type": alert.type, "severity": alert.severity, "reasons": list(alert.reasons),
        "mention_id": alert.mention_id, "customer_id": alert.customer_id, "is_prospect": alert.is_prospect,
        "brand": alert.brand or "", "channel": alert.channel, "text": alert.text,
        "sentiment_compound": round(alert.sentiment.compound, 3), "complaint_score": round(alert.complaint_score, 3),
        "prior_complaints": alert.prior_complaints.count, "prior_window_days": alert.prior_complaints.window_days,
        "channels_complained_on": list(alert.channels_complained_on),
        "customer_tier": ctx.tier if ctx else "", "customer_lifetime_value": ctx.lifetime_value if ctx else 0.0,
        "influence": round(ctx.influence, 3) if ctx else 0.0, "created_at": alert.created_at, "status": status,
        "assignee": "", "window_start": alert.window_start,
        "top_mentions": [{"mention_id": t.mention_id, "text": t.text, "sentiment_compound": round(t.sentiment_compound, 3)}
                         for t in alert.top_mentions],
    }


def action_view(action: AlertAction) -> dict[str, Any]:
    """An action → what the pages apply: a new `status` (ack, resolve) or a `verdict` on the complaint model."""
    verdict = action.action in VERDICTS
    return {"alert_id": action.alert_id, "action": action.action, "by": action.by, "at": action.at,
            "status": {"ack": "acked", "resolve": "resolved"}.get(action.action),
            "verdict": action.action if verdict else None, "mention_id": action.mention_id if verdict else None}


def sentiment_series(rows: Sequence[Sequence[Any]], max_brands: int = MAX_CHART_BRANDS) -> list[dict[str, Any]]:
    """Rows of SENTIMENT_SQL → [{brand, mentions, points: [{hour, avg, n}]}] for the busiest `max_brands` brands."""
    by_brand: dict[str, list[dict[str, Any]]] = {}
    for hour, brand, n, avg in rows:
        by_brand.setdefault(brand, []).append({"hour": iso(hour), "avg": round(float(avg), 4), "n": int(n)})
    totals = sorted(by_brand, key=lambda b: (-sum(p["n"] for p in by_brand[b]), b))[:max_brands]
    return [{"brand": b, "mentions": sum(p["n"] for p in by_brand[b]), "points": by_brand[b]} for b in totals]


# --- ClickHouse side ---------------------------------------------------------------------------------------------

class Queries:
    """Runs parameterized queries in worker threads (clickhouse-driver blocks); idle clients are reused, one
    client per concurrent query (a driver Client is not thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self._idle: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def _run(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        from pipeline.adapters.clickhouse.client import client

        try:
            c = self._idle.get_nowait()
        except queue.Empty:
            c = client(self.s)
        try:
            rows = c.execute(sql, params)
        except BaseException:
            c.disconnect()
            raise
        self._idle.put(c)
        return rows

    async def execute(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        return await asyncio.to_thread(self._run, sql, params)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().disconnect()
            except queue.Empty:
                return


class QueryRunner(Protocol):
    async def execute(self, sql: str, params: dict[str, Any]) -> list[tuple]: ...
    def close(self) -> None: ...


# --- handlers ----------------------------------------------------------------------------------------------------

# The app's state, set by `server.create_web_app`; `feed` and `pages` read it too.
FEED = web.AppKey("feed", object)
QUERIES = web.AppKey("queries", object)
SETTINGS = web.AppKey("settings", Settings)
BRANDS = web.AppKey("brands", BrandsCheck)


def query_error(exc: Exception) -> web.Response:
    log.warning("dashboard query failed: %s", type(exc).__name__)
    return web.json_response({"error": "ClickHouse unavailable"}, status=503)


async def fetch_snapshot(app: web.Application, limit: int) -> list[dict[str, Any]]:
    rows = await app[QUERIES].execute(SNAPSHOT_SQL, {"limit": limit})
    views = [alert_view_from_row(r) for r in rows]
    await add_verdicts(app[QUERIES], views)
    return views


async def add_verdicts(q: "QueryRunner", views: list[dict[str, Any]]) -> None:
    """Each alert view gets `verdict` / `verdict_by`: the latest verdict on it (None when nobody gave one). Best
    effort: without them the cards still work, so a failed lookup only leaves them empty."""
    ids = tuple(v["alert_id"] for v in views if v["type"] != "spike")
    found: dict[str, tuple[str, str]] = {}
    if ids:
        try:
            found = {a: (verdict, by) for a, verdict, by in await q.execute(ALERT_VERDICTS_SQL, {"ids": ids})}
        except Exception as exc:  # noqa: BLE001 - the cards matter more than their verdict chips
            log.warning("dashboard verdict lookup failed: %s", type(exc).__name__)
    for v in views:
        v["verdict"], v["verdict_by"] = found.get(v["alert_id"], (None, None))


def int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    """The integer query parameter `name` clamped to [lo, hi]; not an integer: 400 (parse parameters before the
    `try` around a query, whose `except Exception` would turn this 400 into a 503)."""
    try:
        return max(lo, min(hi, int(request.query.get(name, default))))
    except ValueError:
        raise bad_request(f"{name} must be an integer from {lo} to {hi}") from None


def _brand_param(request: web.Request) -> str:
    return request.query.get("brand", "").strip()[:256]


async def list_alerts(request: web.Request) -> web.Response:
    limit = int_param(request, "limit", SNAPSHOT_LIMIT, 1, 1000)
    try:
        alerts = await fetch_snapshot(request.app, limit)
    except Exception as exc:  # noqa: BLE001 - ClickHouse down is an answer, not a crash
        return query_error(exc)
    return web.json_response({"alerts": alerts}, dumps=lambda o: encode(o).decode())


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=encode({"error": message}).decode(), content_type="application/json")


async def actor(request: web.Request) -> str:
    """Who acts: the body's `by` (trimmed, at most 80 characters), else "dashboard"; a body that is not JSON is a
    400 (raised)."""
    by = "dashboard"
    if request.body_exists:  # already read by auth.body_timeout_middleware
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise bad_request("body must be JSON") from None
        if isinstance(body, dict) and isinstance(body.get("by"), str) and body["by"].strip():
            by = body["by"].strip()[:80]
    return by


async def send_action(request: web.Request, record: AlertAction) -> web.Response:
    """Produce `record` to alerts.actions (acknowledged by the broker) → 202 with its view, 503 when Kafka is down."""
    try:
        await asyncio.wait_for(request.app[FEED].send_action(record), 15)
    except Exception as exc:  # noqa: BLE001
        log.warning("dashboard could not produce an action: %s", type(exc).__name__)
        return web.json_response({"error": "Kafka unavailable, try again"}, status=503)
    metrics.DASHBOARD_ACTIONS.labels(record.action).inc()
    return web.json_response(action_view(record), status=202)


async def act(request: web.Request) -> web.Response:
    alert_id, action = request.match_info["alert_id"], request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    if not _ALERT_ID_RE.match(alert_id):
        return web.json_response({"error": "invalid alert id"}, status=400)
    by = await actor(request)
    feed = request.app[FEED]
    if not getattr(feed, "knows", lambda _: False)(alert_id):  # seen live: the sink may not have written it yet
        try:
            rows = await request.app[QUERIES].execute(ALERT_EXISTS_SQL, {"id": alert_id})
        except Exception as exc:  # noqa: BLE001
            return query_error(exc)
        if not rows or not rows[0][0]:
            return web.json_response({"error": f"no alert {alert_id}"}, status=404)
    record = AlertAction(alert_id=alert_id, action=action, by=by, at=to_iso(datetime.now(timezone.utc)))
    return await send_action(request, record)


async def kpis(request: web.Request) -> web.Response:
    params = {"brand": _brand_param(request)}
    brands = await asyncio.to_thread(request.app[BRANDS].check)
    q = request.app[QUERIES]
    try:
        (m_rows, a_rows) = await asyncio.gather(q.execute(KPI_MENTIONS_SQL, params), q.execute(KPI_ALERTS_SQL, params))
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    mentions, negative, complaints = m_rows[0] if m_rows else (0, 0, 0)
    open_, critical, acked = a_rows[0] if a_rows else (0, 0, 0)
    return web.json_response({
        "window_minutes": KPI_WINDOW_MINUTES, "mentions": mentions,
        "mentions_per_min": round(mentions / KPI_WINDOW_MINUTES, 2),
        "negative_share": round(negative / mentions, 4) if mentions else None,
        "complaints": complaints, "open_alerts": open_, "critical_open": critical, "acked_alerts": acked,
        "brand": params["brand"], "at": to_iso(datetime.now(timezone.utc)),
        # configuration the page warns about (a banner), e.g. no brands configured
        "brands_configured": brands.count, "warnings": brands.warnings,
    })


async def sentiment(request: web.Request) -> web.Response:
    hours = int_param(request, "hours", 24, 1, 24 * 14)
    try:
        rows = await request.app[QUERIES].execute(SENTIMENT_SQL, {"hours": hours, "brand": _brand_param(request)})
    except Exception as exc:  # noqa: BLE001
        return query_error(exc)
    return web.json_response({"hours": hours, "series": sentiment_series(rows)},
                             dumps=lambda o: encode(o).decode())
