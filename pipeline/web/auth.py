"""Dashboard auth and response hardening: the bearer token, the session cookie (an HMAC of the token), the
constant-time comparison, the security headers on every response and the access logging that never shows a token.

Auth: `Authorization: Bearer <token>`, or the HttpOnly SameSite=Strict cookie set by `/?token=` (EventSource cannot
send headers). The cookie holds an HMAC of the token, not the token. Comparisons use `hmac.compare_digest`.
The token and query strings are never logged (own access logger). Every response carries a strict CSP: the page
builds its DOM with textContent only, because mention text is hostile input. /health and /metrics need no token:
they carry no customer data and are meant for probes and Prometheus. `POST /api/mentions` skips this check: it
takes its own ingest tokens only (`ingest`), never the dashboard token or cookie.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from yarl import URL

COOKIE_NAME = "socialpulse_dashboard"
COOKIE_MAX_AGE = 7 * 24 * 3600
OPEN_PATHS = frozenset({"/health", "/metrics"})
#: POST here is checked by `ingest` against the ingest tokens instead (everything else on this path as usual).
INGEST_PATH = "/api/mentions"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


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
        if request.path in OPEN_PATHS or (request.path == INGEST_PATH and request.method == "POST"):
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


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
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


def install_log_redaction() -> None:
    for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
