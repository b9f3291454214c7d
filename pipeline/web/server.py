"""The live alerts dashboard (I/O): an aiohttp app that streams alerts to the page by Server-Sent Events, answers
KPI and sentiment queries from ClickHouse and turns the page's ack/resolve clicks into `alerts.actions` messages.
This module wires the app (`create_web_app`) and serves it (`run_dashboard`); the parts live next to it:
`auth` (token, sessions, sign-out, security headers), `tokens` (the token, fixed or followed in a file),
`sessions` (signed, expiring session cookies), `proxy` (X-Forwarded-* from trusted proxies only), `logs` (access
log, token redaction), `feed` (Kafka tail, SSE fan-out, /api/stream and its limits),
`api` (ClickHouse queries and the JSON handlers), `feedback` (verdicts on the complaint model, measured precision),
`status` (configuration warnings), `pages` (the page, /health, /metrics), `ingest` (POST /api/mentions, with
`ratelimit`).

Endpoints (everything needs the token except /health and /metrics, which carry no customer data and are meant for
probes and Prometheus, and POST /api/mentions, which takes ingest tokens only; keep the dashboard on a loopback or
private address, see `dashboard_host`):

  GET  /                          the page (static/index.html); `/?token=T` sets the session cookie, then redirects
  GET  /static/*                  app.js, style.css, favicon.svg
  POST /logout                    ends this session (revoked, cookie cleared, its streams closed) → /signed-out
  GET  /api/stream                SSE: `snapshot` (latest ≤100 open/acked alerts from ClickHouse) on connect, then
                                  `alert` (each new alert from alerts.complaints) and `action` (from alerts.actions);
                                  at most dashboard_max_streams at once, dashboard_max_streams_per_client per
                                  client address (else 503)
  GET  /api/alerts?limit=N        the same snapshot as JSON
  POST /api/alerts/{id}/ack       produce an AlertAction (key = alert id) to alerts.actions; the worker's sink
  POST /api/alerts/{id}/resolve   writes it to ClickHouse (alert_actions + alerts.status); 404 for an alert that is
                                  neither in ClickHouse nor seen live
  POST /api/alerts/{id}/not_complaint   verdicts on a complaint alert (not a complaint / confirmed), and on a
  POST /api/alerts/{id}/complaint       mention the model did not flag: an AlertAction whose action is the verdict
  POST /api/mentions/{id}/missed_complaint   to alerts.actions; the sink writes complaint_feedback (`feedback`)
  GET  /api/precision?days=7      measured precision of complaint alerts per brand from those verdicts
  GET  /api/kpis?brand=B          mentions/min and negative share over the last 5 min of processed_at, open alerts;
                                  configuration warnings for the page's banner (no brands configured)
  GET  /api/sentiment?hours=24    hourly average compound per brand (created_at), top brands by volume
  GET  /health, /metrics          liveness / Prometheus text format
  GET  /customer#<id>             the customer 360 page (static/customer.html); its API is in `customers`:
  GET  /api/customers?q=Q         search by customer id, handle or e-mail (e-mail addresses masked in all answers)
  GET  /api/customers/{id}        profile, value, identities, open alerts, timeline across channels, link history
  POST /api/customers/{id}/link   a prospect's identities → a customer (`customers link`, audited)
  GET  /api/advocates?days=30     top advocates and detractors (docs/customer_value.md)
  POST /api/mentions              mentions over HTTP (JSON object, array or NDJSON) → mentions.raw, acknowledged by
                                  the broker before `202 {"accepted", "rejected"}`; its own ingest tokens
                                  (SOCIALPULSE_INGEST_TOKEN, not the dashboard's), limits and errors: docs/api.md

Auth: `Authorization: Bearer <token>` or the session cookie set by `/?token=` (see `auth`). Timeouts: headers
(`runner_options`) and bodies (`auth.body_timeout_middleware`). Every response carries
a strict CSP: the page builds its DOM with textContent only, because mention text is hostile input.
"""
from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any, Callable, Optional, Union

from aiohttp import web

from pipeline.settings import LOOPBACK_HOSTS, Settings
from pipeline.web.api import (ALERT_VIEW_COLUMNS, BRANDS, FEED, QUERIES, SETTINGS, Queries, QueryRunner, act,
                              alert_view, alert_view_from_row, kpis, list_alerts, sentiment, sentiment_series)
from pipeline.web.auth import (COOKIE_NAME, SESSIONS, SIGNED_OUT, SIGNED_OUT_PATH, add_security_headers,
                               auth_middleware, body_timeout_middleware, logout)
from pipeline.web.feed import STREAMS, AlertFeed, LiveFeed, StreamLimits, Subscriber, sse_event, stream
from pipeline.web.ingest import INGEST_PATH, MentionsEndpoint, ingest_tokens
from pipeline.web import customers, feedback
from pipeline.web.logs import AccessLogger, RedactTokens, install_log_redaction
from pipeline.web.pages import STATIC_DIR, customer_page, health, index, prometheus, signed_out
from pipeline.web.proxy import TrustedProxies, proxy_middleware
from pipeline.web.sessions import Sessions
from pipeline.web.status import BrandsCheck
from pipeline.adapters.secretfile import read_secret
from pipeline.web.tokens import TokenSource, token_file

#: Imported from here by callers and tests (the names this module had before it was split).
__all__ = ["ALERT_VIEW_COLUMNS", "COOKIE_NAME", "AccessLogger", "AlertFeed", "LiveFeed", "QueryRunner", "Subscriber",
           "TokenSource", "alert_view", "alert_view_from_row", "create_web_app", "dashboard_url", "run_dashboard",
           "runner_options", "sentiment_series", "sse_event"]


def create_web_app(settings: Settings, token: Union[str, TokenSource], *, feed: Optional[LiveFeed] = None,
                   queries: Optional[QueryRunner] = None) -> web.Application:
    """The dashboard app. `token`: the token, or a TokenSource that follows a file. `feed` (default: an AlertFeed
    on the configured Kafka) and `queries` (default: ClickHouse) are started/stopped with the app; tests pass
    stand-ins."""
    tokens = token if isinstance(token, TokenSource) else TokenSource(token)
    install_log_redaction([tokens.current(), *ingest_tokens(settings.ingest_token)])
    sessions = Sessions(tokens, settings.dashboard_session_ttl)
    limits = StreamLimits(settings.dashboard_max_streams, settings.dashboard_max_streams_per_client)
    tokens.on_change.append(lambda new: RedactTokens.add_secrets([new]))
    tokens.on_change.append(lambda new: limits.end_all())  # pages signed in with the old token stop at once
    app = web.Application(middlewares=[proxy_middleware(TrustedProxies(settings.trusted_proxy_networks)),
                                       auth_middleware(tokens, sessions),
                                       body_timeout_middleware(settings.dashboard_body_timeout)],
                          client_max_size=64 * 1024)
    app[SETTINGS], app[SESSIONS], app[STREAMS] = settings, sessions, limits
    app[BRANDS] = BrandsCheck(settings)
    app[SIGNED_OUT] = [lambda session: limits.end_session(session.sid)]

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
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/logout", logout)
    app.router.add_get(SIGNED_OUT_PATH, signed_out)
    app.router.add_get("/api/stream", stream)
    app.router.add_get("/api/alerts", list_alerts)
    # the verdict routes before the generic action route, which answers 404 for them
    app.router.add_post("/api/alerts/{alert_id}/{verdict:not_complaint|complaint}", feedback.alert_verdict)
    app.router.add_post("/api/alerts/{alert_id}/{action}", act)
    app.router.add_post("/api/mentions/{mention_id}/{verdict:missed_complaint}", feedback.mention_verdict)
    app.router.add_get("/api/precision", feedback.precision)
    app.router.add_get("/api/kpis", kpis)
    app.router.add_get("/api/sentiment", sentiment)
    app.router.add_get("/customer", customer_page)
    app.router.add_get("/api/customers", customers.search)
    app.router.add_get("/api/customers/{customer_id}", customers.customer)
    app.router.add_post("/api/customers/{customer_id}/link", customers.link)
    app.router.add_get("/api/advocates", customers.advocates)
    app.router.add_post(INGEST_PATH, MentionsEndpoint(settings).post)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False, show_index=False)
    return app


def runner_options(settings: Settings) -> dict[str, Any]:
    """What `web.run_app` / `web.AppRunner` need to serve the dashboard: our access logger and the header timeout.
    aiohttp 3.14 arms its keep-alive timer when a connection opens and after every response, and closes the
    connection when that timer fires before the next request's headers are complete (data trickling in does not
    reset it): with `keepalive_timeout` = dashboard_header_timeout that is the header read timeout."""
    return {"access_log": logging.getLogger("socialpulse.dashboard.access"), "access_log_class": AccessLogger,
            "keepalive_timeout": settings.dashboard_header_timeout, "shutdown_timeout": 5.0}


def dashboard_tokens(settings: Settings) -> tuple[TokenSource, str]:
    """The token source of a dashboard process and how to show its login URL's token. SOCIALPULSE_DASHBOARD_TOKEN
    set to something else than `<data dir>/run/dashboard.token` holds: fixed. Set to the same (`up` passes the
    file's token that way) or unset: the file is followed (created when missing), so rotate-token reaches it."""
    path = token_file(Path(settings.data_dir))
    env = settings.dashboard_token
    if env and not hmac.compare_digest(read_secret(path).encode(), env.encode()):
        return TokenSource(env), "<SOCIALPULSE_DASHBOARD_TOKEN>"
    if env:
        return TokenSource(env, path), f"<the token in {path.resolve()}>"
    tokens = TokenSource.following(path)
    return tokens, tokens.current()


def dashboard_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"


def run_dashboard(settings: Settings, *, port: Optional[int] = None, echo: Callable[[str], None] = print) -> None:
    """Serve the dashboard until SIGINT/SIGTERM. Prints the URL; when the token is the data dir's (none configured),
    the URL that carries it (the terminal is the only place it appears)."""
    port = port or settings.dashboard_port
    url = dashboard_url(settings.dashboard_host, port)
    tokens, shown = dashboard_tokens(settings)
    echo(f"socialpulse dashboard: {url}?token={shown}")
    if tokens.path is not None:
        echo(f"(token kept in {tokens.path.resolve()} and followed: `socialpulse dashboard rotate-token` replaces it)")
    echo(f"HTTP ingest: POST {url}api/mentions " + ("(Bearer <SOCIALPULSE_INGEST_TOKEN>)" if settings.ingest_token
                                                    else "is off: set SOCIALPULSE_INGEST_TOKEN to take mentions"))
    if settings.dashboard_host not in LOOPBACK_HOSTS:
        echo(f"warning: listening on {settings.dashboard_host} over plain HTTP; put it behind TLS before exposing it"
             + ("" if settings.trusted_proxies else " (and set SOCIALPULSE_TRUSTED_PROXIES to the proxy's address)"))
    from pipeline.adapters.net import PortInUse, port_bindable

    if not port_bindable(port, settings.dashboard_host or "0.0.0.0"):
        raise PortInUse(f"dashboard port {port} is already in use: set SOCIALPULSE_DASHBOARD_PORT or --port.")
    try:
        web.run_app(create_web_app(settings, tokens), host=settings.dashboard_host, port=port, print=None,
                    **runner_options(settings))
    except Exception as exc:
        from aiokafka.errors import KafkaConnectionError

        if isinstance(exc, KafkaConnectionError):
            raise ConnectionError(f"cannot reach Kafka at {settings.kafka_bootstrap}") from None
        raise
