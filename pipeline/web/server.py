"""The live alerts dashboard (I/O): an aiohttp app that streams alerts to the page by Server-Sent Events, answers
KPI and sentiment queries from ClickHouse and turns the page's ack/resolve clicks into `alerts.actions` messages.

Endpoints (everything needs the token except /health and /metrics, which carry no customer data and are meant for
probes and Prometheus; keep the dashboard on a loopback or private address, see `dashboard_host`):

  GET  /                          the page (static/index.html); `/?token=T` sets the session cookie, then redirects
  GET  /static/*                  app.js, style.css, favicon.svg
  GET  /api/stream                SSE: `snapshot` (latest ≤100 open/acked alerts from ClickHouse) on connect, then
                                  `alert` (each new alert from alerts.complaints) and `action` (from alerts.actions)
  GET  /api/alerts?limit=N        the same snapshot as JSON
  POST /api/alerts/{id}/ack       produce an AlertAction (key = alert id) to alerts.actions; the worker's sink
  POST /api/alerts/{id}/resolve   writes it to ClickHouse (alert_actions + alerts.status)
  GET  /api/kpis?brand=B          mentions/min and negative share over the last 5 min of processed_at, open alerts
  GET  /api/sentiment?hours=24    hourly average compound per brand (created_at), top brands by volume
  GET  /health, /metrics          liveness / Prometheus text format

Auth: `Authorization: Bearer <token>`, or the HttpOnly SameSite=Strict cookie set by `/?token=` (EventSource cannot
send headers). The cookie holds an HMAC of the token, not the token. Comparisons use `hmac.compare_digest`.
The token and query strings are never logged (own access logger). Every response carries a strict CSP: the page
builds its DOM with textContent only, because mention text is hostile input.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import queue
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Protocol, Sequence

import msgspec
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from mode import Service
from yarl import URL

from pipeline import metrics

from pipeline.contract import topics
from pipeline.codec import decoder, encode
from pipeline.domain.mention import to_iso
from pipeline.contract.records import Alert, AlertAction
from pipeline.settings import LOOPBACK_HOSTS, Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE_NAME = "socialpulse_dashboard"
COOKIE_MAX_AGE = 7 * 24 * 3600
OPEN_PATHS = frozenset({"/health", "/metrics"})
SNAPSHOT_LIMIT = 100
KPI_WINDOW_MINUTES = 5
MAX_CHART_BRANDS = 8
SSE_KEEPALIVE_SECONDS = 15.0
SSE_CLIENT_QUEUE = 1000
ACTIONS = ("ack", "resolve")
_ALERT_ID_RE = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable ASCII, no spaces: what alert ids are made of

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

# --- ClickHouse queries (parameters only through %(name)s) ----------------------------------------------------
ALERT_VIEW_COLUMNS = (
    "alert_id", "type", "severity", "reasons", "mention_id", "customer_id", "is_prospect", "brand", "channel", "text",
    "sentiment_compound", "complaint_score", "prior_complaints", "prior_window_days", "channels_complained_on",
    "customer_tier", "customer_lifetime_value", "influence", "created_at", "status", "assignee", "window_start",
    "top_mentions",
)
SNAPSHOT_SQL = f"""
SELECT {', '.join(ALERT_VIEW_COLUMNS)}
FROM alerts FINAL
WHERE status IN ('open', 'acked')
ORDER BY type = 'spike' DESC, created_at DESC
LIMIT %(limit)s
"""
KPI_MENTIONS_SQL = f"""
SELECT count() AS mentions,
       countIf(sentiment_label = 'negative') AS negative,
       countIf(is_complaint) AS complaints
FROM mentions FINAL
WHERE processed_at >= now64(3, 'UTC') - toIntervalMinute({KPI_WINDOW_MINUTES})
  AND (%(brand)s = '' OR brand = %(brand)s)
"""
KPI_ALERTS_SQL = """
SELECT countIf(status = 'open') AS open,
       countIf(status = 'open' AND severity = 'critical') AS critical_open,
       countIf(status = 'acked') AS acked
FROM alerts FINAL
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

def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return to_iso(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return str(value)


def alert_view_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A row of SNAPSHOT_SQL → the JSON object the page renders."""
    v = dict(zip(ALERT_VIEW_COLUMNS, row))
    v["reasons"] = list(v["reasons"])
    v["channels_complained_on"] = list(v["channels_complained_on"])
    v["created_at"] = _iso(v["created_at"])
    v["is_prospect"] = bool(v["is_prospect"])
    for k in ("sentiment_compound", "complaint_score", "influence"):
        v[k] = round(float(v[k]), 3)
    v["customer_lifetime_value"] = float(v["customer_lifetime_value"])
    v["window_start"] = _iso(v["window_start"]) if v["window_start"] is not None else None
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
    return {"alert_id": action.alert_id, "action": action.action, "by": action.by, "at": action.at,
            "status": {"ack": "acked", "resolve": "resolved"}.get(action.action)}


def sentiment_series(rows: Sequence[Sequence[Any]], max_brands: int = MAX_CHART_BRANDS) -> list[dict[str, Any]]:
    """Rows of SENTIMENT_SQL → [{brand, mentions, points: [{hour, avg, n}]}] for the busiest `max_brands` brands."""
    by_brand: dict[str, list[dict[str, Any]]] = {}
    for hour, brand, n, avg in rows:
        by_brand.setdefault(brand, []).append({"hour": _iso(hour), "avg": round(float(avg), 4), "n": int(n)})
    totals = sorted(by_brand, key=lambda b: (-sum(p["n"] for p in by_brand[b]), b))[:max_brands]
    return [{"brand": b, "mentions": sum(p["n"] for p in by_brand[b]), "points": by_brand[b]} for b in totals]


def sse_event(name: str, payload: Any) -> bytes:
    """One Server-Sent Event; JSON never contains a raw newline, so one `data:` line is enough."""
    return b"event: " + name.encode() + b"\ndata: " + encode(payload) + b"\n\n"


# --- auth --------------------------------------------------------------------------------------------------------

def cookie_value(token: str) -> str:
    """What the session cookie holds: an HMAC of the token (the token itself never sits in the cookie jar)."""
    return hmac.new(token.encode(), b"socialpulse-dashboard-session", hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


def _unauthorized(request: web.Request) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="socialpulse"', "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        return web.json_response({"error": "unauthorized"}, status=401, headers=headers)
    return web.Response(status=401, headers=headers, content_type="text/plain",
                        text="401 Unauthorized: open the dashboard with the URL printed by `socialpulse dashboard` "
                             "(…/?token=…), or send `Authorization: Bearer <token>`.\n")


def auth_middleware(token: str) -> Callable:
    session = cookie_value(token)

    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path in OPEN_PATHS:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            if not _same(header[7:].strip(), token):
                return _unauthorized(request)
            return await handler(request)
        if "token" in request.query and request.method == "GET":
            if not _same(request.query["token"], token):
                return _unauthorized(request)
            # Trade the token for the cookie and drop it from the address bar (history, screenshots).
            query = [(k, v) for k, v in request.query.items() if k != "token"]
            path = "/" + request.path.lstrip("/")  # never "//host": a same-origin redirect only
            target = URL.build(path=path, query=query) if query else URL.build(path=path)
            resp = web.HTTPSeeOther(location=str(target))
            resp.set_cookie(COOKIE_NAME, session, max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                            samesite="Strict", secure=request.secure)
            raise resp
        cookie = request.cookies.get(COOKIE_NAME, "")
        if not cookie or not _same(cookie, session):
            return _unauthorized(request)
        if request.method not in ("GET", "HEAD"):
            # Cookie-authenticated writes only from our own page (SameSite=Strict already blocks cross-site).
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                return web.json_response({"error": "cross-origin request refused"}, status=403)
        return await handler(request)

    return check


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/") or request.path == "/":
        response.headers.setdefault("Cache-Control", "no-store")
    elif request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")


class AccessLogger(AbstractAccessLogger):
    """Method, path (never the query string: it may hold the token), status and time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:  # noqa: A002
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class RedactTokens(logging.Filter):
    """Scrubs `token=…` from aiohttp's own log lines (its default access log prints the query string); installed
    by `create_web_app` as a second line of defence whatever runner serves the app."""

    _TOKEN_RE = re.compile(r"([?&]token=)[^&\s\"']*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg, record.args = self._TOKEN_RE.sub(r"\1***", message), ()
        return True


def _install_log_redaction() -> None:
    for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


# --- the Kafka side ----------------------------------------------------------------------------------------------

class Subscriber:
    """One connected page: a bounded queue of encoded SSE events. `closed` when it fell too far behind."""

    def __init__(self, maxsize: int = SSE_CLIENT_QUEUE) -> None:
        self.queue: asyncio.Queue[Optional[bytes]] = asyncio.Queue(maxsize=maxsize)
        self.closed = False

    def push(self, event: Optional[bytes]) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A page that stopped reading: end its stream; EventSource reconnects and gets a fresh snapshot.
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class LiveFeed(Protocol):
    """What the web app needs from the Kafka side (AlertFeed; tests pass a stand-in)."""

    ready: asyncio.Event

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def subscribe(self) -> Subscriber: ...
    def unsubscribe(self, sub: Subscriber) -> None: ...
    def close_all(self) -> None: ...
    async def send_action(self, action: AlertAction) -> None: ...


class AlertFeed(Service):
    """Follows alerts.complaints and alerts.actions from the latest offsets in its own consumer group
    (`<app_id>-dashboard-<random>`, never committed) and fans every message out to the connected pages;
    produces the pages' actions to alerts.actions (key = alert id). `ready` is set once partitions are assigned
    and positioned, i.e. every alert produced from then on reaches the pages."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.s = settings
        self.group_id = f"{settings.app_id}-dashboard-{secrets.token_hex(4)}"
        self.ready = asyncio.Event()
        self._subscribers: set[Subscriber] = set()
        self._consumer: Any = None
        self._producer: Any = None
        self._dec_alert, self._dec_action = decoder(Alert), decoder(AlertAction)

    def subscribe(self) -> Subscriber:
        sub = Subscriber()
        self._subscribers.add(sub)
        metrics.DASHBOARD_CLIENTS.set(len(self._subscribers))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)
        metrics.DASHBOARD_CLIENTS.set(len(self._subscribers))

    def close_all(self) -> None:
        """End every page's stream (server shutdown)."""
        for sub in list(self._subscribers):
            sub.push(None)

    def publish(self, event: bytes) -> None:
        for sub in list(self._subscribers):
            sub.push(event)

    async def send_action(self, action: AlertAction) -> None:
        await self._producer.send_and_wait(topics.ACTIONS, key=action.alert_id.encode(), value=encode(action))

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        from pipeline.adapters.kafka.config import aiokafka_config

        cfg = aiokafka_config(self.s)
        producer = AIOKafkaProducer(**cfg, acks="all", request_timeout_ms=10_000)
        consumer = AIOKafkaConsumer(topics.ALERTS, topics.ACTIONS, **cfg, group_id=self.group_id,
                                    auto_offset_reset="latest", enable_auto_commit=False)
        try:
            await producer.start()
            await consumer.start()
        except BaseException:
            await consumer.stop()
            await producer.stop()
            raise
        self._producer, self._consumer = producer, consumer
        self.add_future(self._follow())

    async def on_stop(self) -> None:
        self.close_all()
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()

    async def _follow(self) -> None:
        invalid = metrics.STAGE_MESSAGES.labels("dashboard", "invalid")
        while not self.should_stop:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=1000)
                if not self.ready.is_set():
                    assigned = self._consumer.assignment()
                    if assigned:
                        for tp in assigned:  # resolves "latest" now, so nothing produced after `ready` is missed
                            await self._consumer.position(tp)
                        self.ready.set()
                        log.info("dashboard feed live on %d partitions", len(assigned))
                for tp, records in batches.items():
                    for r in records:
                        try:
                            if tp.topic == topics.ALERTS:
                                self.publish(sse_event("alert", alert_view(self._dec_alert.decode(r.value))))
                            else:
                                self.publish(sse_event("action", action_view(self._dec_action.decode(r.value))))
                        except (msgspec.MsgspecError, TypeError):
                            invalid.inc()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep following; aiokafka reconnects by itself
                log.warning("dashboard feed: %s: %s", type(exc).__name__, exc)
                await self.sleep(1.0)


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

FEED = web.AppKey("feed", object)
QUERIES = web.AppKey("queries", object)
SETTINGS = web.AppKey("settings", Settings)


def _query_error(exc: Exception) -> web.Response:
    log.warning("dashboard query failed: %s", type(exc).__name__)
    return web.json_response({"error": "ClickHouse unavailable"}, status=503)


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def health(request: web.Request) -> web.Response:
    feed = request.app.get(FEED)
    live = bool(feed is not None and feed.ready.is_set())
    return web.json_response({"ok": True, "live": live})


async def prometheus(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": "text/plain; version=0.0.4"})


async def _snapshot(app: web.Application, limit: int) -> list[dict[str, Any]]:
    rows = await app[QUERIES].execute(SNAPSHOT_SQL, {"limit": limit})
    return [alert_view_from_row(r) for r in rows]


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(request.query.get(name, default))))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an integer") from None


def _brand_param(request: web.Request) -> str:
    return request.query.get("brand", "").strip()[:256]


async def list_alerts(request: web.Request) -> web.Response:
    try:
        alerts = await _snapshot(request.app, _int_param(request, "limit", SNAPSHOT_LIMIT, 1, 1000))
    except Exception as exc:  # noqa: BLE001 - ClickHouse down is an answer, not a crash
        return _query_error(exc)
    return web.json_response({"alerts": alerts}, dumps=lambda o: encode(o).decode())


async def stream(request: web.Request) -> web.StreamResponse:
    feed: LiveFeed = request.app[FEED]
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                       "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"})
    sub = feed.subscribe()  # before the snapshot: an alert arriving meanwhile is queued, not lost
    announce: Optional[asyncio.Future] = None
    try:
        await resp.prepare(request)
        await resp.write(b"retry: 3000\n\n")
        try:
            snapshot: dict[str, Any] = {"alerts": await _snapshot(request.app, SNAPSHOT_LIMIT)}
        except Exception as exc:  # noqa: BLE001
            log.warning("dashboard snapshot failed: %s", type(exc).__name__)
            snapshot = {"alerts": [], "error": "ClickHouse unavailable: showing live alerts only"}
        snapshot["live"] = feed.ready.is_set()
        await resp.write(sse_event("snapshot", snapshot))
        if not snapshot["live"]:  # tell the page when the feed has joined (a second or two after start)
            announce = asyncio.ensure_future(_announce_live(feed, sub))
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), SSE_KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                await resp.write(b": keepalive\n\n")
                continue
            if event is None:
                break
            await resp.write(event)
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        feed.unsubscribe(sub)
        if announce is not None:
            announce.cancel()
    return resp


async def _announce_live(feed: LiveFeed, sub: Subscriber) -> None:
    await feed.ready.wait()
    sub.push(sse_event("live", {"live": True}))


async def act(request: web.Request) -> web.Response:
    alert_id, action = request.match_info["alert_id"], request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    if not _ALERT_ID_RE.match(alert_id):
        return web.json_response({"error": "invalid alert id"}, status=400)
    by = "dashboard"
    if request.can_read_body:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "body must be JSON"}, status=400)
        if isinstance(body, dict) and isinstance(body.get("by"), str) and body["by"].strip():
            by = body["by"].strip()[:80]
    record = AlertAction(alert_id=alert_id, action=action, by=by, at=to_iso(datetime.now(timezone.utc)))
    try:
        await asyncio.wait_for(request.app[FEED].send_action(record), 15)
    except Exception as exc:  # noqa: BLE001
        log.warning("dashboard could not produce an action: %s", type(exc).__name__)
        return web.json_response({"error": "Kafka unavailable, try again"}, status=503)
    metrics.DASHBOARD_ACTIONS.labels(action).inc()
    return web.json_response(action_view(record), status=202)


async def kpis(request: web.Request) -> web.Response:
    params = {"brand": _brand_param(request)}
    q = request.app[QUERIES]
    try:
        (m_rows, a_rows) = await asyncio.gather(q.execute(KPI_MENTIONS_SQL, params), q.execute(KPI_ALERTS_SQL, params))
    except Exception as exc:  # noqa: BLE001
        return _query_error(exc)
    mentions, negative, complaints = m_rows[0] if m_rows else (0, 0, 0)
    open_, critical, acked = a_rows[0] if a_rows else (0, 0, 0)
    return web.json_response({
        "window_minutes": KPI_WINDOW_MINUTES, "mentions": mentions,
        "mentions_per_min": round(mentions / KPI_WINDOW_MINUTES, 2),
        "negative_share": round(negative / mentions, 4) if mentions else None,
        "complaints": complaints, "open_alerts": open_, "critical_open": critical, "acked_alerts": acked,
        "brand": params["brand"], "at": to_iso(datetime.now(timezone.utc)),
    })


async def sentiment(request: web.Request) -> web.Response:
    hours = _int_param(request, "hours", 24, 1, 24 * 14)
    try:
        rows = await request.app[QUERIES].execute(SENTIMENT_SQL, {"hours": hours, "brand": _brand_param(request)})
    except Exception as exc:  # noqa: BLE001
        return _query_error(exc)
    return web.json_response({"hours": hours, "series": sentiment_series(rows)},
                             dumps=lambda o: encode(o).decode())


# --- app ---------------------------------------------------------------------------------------------------------

def create_web_app(settings: Settings, token: str, *, feed: Optional[LiveFeed] = None,
                   queries: Optional[QueryRunner] = None) -> web.Application:
    """The dashboard app. `feed` (default: an AlertFeed on the configured Kafka) and `queries` (default: ClickHouse)
    are started/stopped with the app; tests pass stand-ins."""
    if not token:
        raise ValueError("the dashboard needs a non-empty token")
    _install_log_redaction()
    app = web.Application(middlewares=[auth_middleware(token)], client_max_size=64 * 1024)
    app[SETTINGS] = settings

    async def lifecycle(app: web.Application):
        live = feed if feed is not None else AlertFeed(settings)
        app[QUERIES] = queries if queries is not None else Queries(settings)
        await live.start()
        app[FEED] = live
        try:
            yield
        finally:
            await live.stop()
            app[QUERIES].close()

    async def end_streams(app: web.Application) -> None:
        if FEED in app:
            app[FEED].close_all()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(end_streams)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/api/stream", stream)
    app.router.add_get("/api/alerts", list_alerts)
    app.router.add_post("/api/alerts/{alert_id}/{action}", act)
    app.router.add_get("/api/kpis", kpis)
    app.router.add_get("/api/sentiment", sentiment)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False, show_index=False)
    return app


def dashboard_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"


def run_dashboard(settings: Settings, *, port: Optional[int] = None, echo: Callable[[str], None] = print) -> None:
    """Serve the dashboard until SIGINT/SIGTERM. Prints the URL; with no configured token, generates one and prints
    the URL that carries it (the only place it ever appears)."""
    port = port or settings.dashboard_port
    token = settings.dashboard_token or secrets.token_urlsafe(24)
    url = dashboard_url(settings.dashboard_host, port)
    if settings.dashboard_token:
        echo(f"socialpulse dashboard: {url}?token=<SOCIALPULSE_DASHBOARD_TOKEN>")
    else:
        echo(f"socialpulse dashboard: {url}?token={token}")
        echo("(token generated for this run; set SOCIALPULSE_DASHBOARD_TOKEN to keep one across restarts)")
    if settings.dashboard_host not in LOOPBACK_HOSTS:
        echo(f"warning: listening on {settings.dashboard_host} over plain HTTP; put it behind TLS before exposing it")
    from pipeline.adapters.net import PortInUse, port_bindable

    if not port_bindable(port, settings.dashboard_host or "0.0.0.0"):
        raise PortInUse(f"dashboard port {port} is already in use: set SOCIALPULSE_DASHBOARD_PORT or --port.")
    try:
        web.run_app(create_web_app(settings, token), host=settings.dashboard_host, port=port, print=None,
                    shutdown_timeout=5.0, access_log=logging.getLogger("socialpulse.dashboard.access"),
                    access_log_class=AccessLogger)
    except Exception as exc:
        from aiokafka.errors import KafkaConnectionError

        if isinstance(exc, KafkaConnectionError):
            raise ConnectionError(f"cannot reach Kafka at {settings.kafka_bootstrap}") from None
        raise
