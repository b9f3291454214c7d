"""Dashboard auth and response hardening: the bearer token, the session cookie (`sessions`), sign-out, the
constant-time comparison, the body read timeout and the security headers on every response.

Auth: `Authorization: Bearer <token>`, or the HttpOnly SameSite=Strict session cookie set by `/?token=`
(EventSource cannot send headers), `Secure` when the page was loaded over HTTPS (directly or through a trusted
proxy, see `proxy`). The cookie holds a signed session (issued, expires, random id), never the token; a request
in the second half of a session's life gets a new one. `POST /logout` revokes the session and clears the cookie.
Token comparisons use `hmac.compare_digest`. Cookie-authenticated writes must come from our own origin. The token
and query strings are never logged (`logs`). Every response carries a strict CSP: the page builds its DOM with
textContent only, because mention text is hostile input. /health and /metrics need no token: they carry no
customer data and are meant for probes and Prometheus; neither do the signed-out page and the stylesheet and icon
it uses. `POST /api/mentions` skips this check: it takes its own ingest tokens only (`ingest`).
"""
from __future__ import annotations

import asyncio
import hmac
from typing import Awaitable, Callable, Optional

from aiohttp import web
from yarl import URL

from pipeline.web.logs import AccessLogger, RedactTokens, install_log_redaction
from pipeline.web.sessions import Session, Sessions
from pipeline.web.tokens import TokenSource

__all__ = ["COOKIE_NAME", "AccessLogger", "RedactTokens", "SESSION", "add_security_headers", "auth_middleware",
           "body_timeout_middleware", "install_log_redaction", "logout", "still_authorized"]

COOKIE_NAME = "socialpulse_dashboard"
SIGNED_OUT_PATH = "/signed-out"
OPEN_PATHS = frozenset({"/health", "/metrics", SIGNED_OUT_PATH, "/static/style.css", "/static/favicon.svg"})
#: POST here is checked by `ingest` against the ingest tokens instead (everything else on this path as usual).
INGEST_PATH = "/api/mentions"
#: The request's session (None with a bearer token) and what it was authorised with (see `still_authorized`).
SESSION = web.RequestKey("session", object)
_AUTH = web.RequestKey("auth", tuple)
_REISSUE = web.RequestKey("reissue", Session)
SESSIONS = web.AppKey("sessions", Sessions)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


def _unauthorized(request: web.Request) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="socialpulse"', "Cache-Control": "no-store"}
    if request.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
        return web.json_response({"error": "unauthorized"}, status=401, headers=headers)
    return web.Response(status=401, headers=headers, content_type="text/plain",
                        text="401 Unauthorized: open the dashboard with the URL printed by `socialpulse dashboard` "
                             "(…/?token=…), or send `Authorization: Bearer <token>`.\n")


def set_session_cookie(response: web.StreamResponse, request: web.BaseRequest, session: Session,
                       now: float) -> None:
    response.set_cookie(COOKIE_NAME, session.value, max_age=session.max_age(now), path="/", httponly=True,
                        samesite="Strict", secure=request.secure)


def auth_middleware(tokens: TokenSource, sessions: Sessions) -> Callable:
    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path in OPEN_PATHS or (request.path == INGEST_PATH and request.method == "POST"):
            return await handler(request)
        token = tokens.current()
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            if not _same(header[7:].strip(), token):
                return _unauthorized(request)
            request[SESSION], request[_AUTH] = None, (tokens.generation, None)
            return await handler(request)
        if "token" in request.query and request.method == "GET":
            if not _same(request.query["token"], token):
                return _unauthorized(request)
            # Trade the token for a session cookie and drop it from the address bar (history, screenshots).
            query = [(k, v) for k, v in request.query.items() if k != "token"]
            path = "/" + request.path.lstrip("/")  # never "//host": a same-origin redirect only
            target = URL.build(path=path, query=query) if query else URL.build(path=path)
            resp = web.HTTPSeeOther(location=str(target))
            set_session_cookie(resp, request, sessions.issue(), sessions.now())
            raise resp
        session = sessions.verify(request.cookies.get(COOKIE_NAME, ""))
        if session is None:
            return _unauthorized(request)
        if request.method not in ("GET", "HEAD"):
            # Cookie-authenticated writes only from our own page (SameSite=Strict already blocks cross-site).
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                return web.json_response({"error": "cross-origin request refused"}, status=403)
        request[SESSION], request[_AUTH] = session, (tokens.generation, session)
        if sessions.due(session) and request.path != "/logout":
            request[_REISSUE] = sessions.issue()
        response = await handler(request)
        fresh = request.pop(_REISSUE, None)
        if fresh is not None and not response.prepared:
            set_session_cookie(response, request, fresh, sessions.now())
        return response

    return check


def still_authorized(request: web.Request) -> bool:
    """Whether what authorised `request` still holds: the token has not changed since, and its session (if any) has
    neither expired nor been signed out. Long-lived responses (the live stream) ask this now and then."""
    generation, session = request.get(_AUTH, (None, None))
    sessions: Sessions = request.app[SESSIONS]
    sessions.tokens.current()  # notices a rotated token file (one stat at most every few seconds)
    if generation != sessions.tokens.generation:
        return False
    return session is None or (sessions.now() < session.expires and not sessions.revoked(session))


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /logout: revoke this session (until it would have expired), clear the cookie, end its live streams,
    then the signed-out page (303)."""
    session: Optional[Session] = request.get(SESSION)
    if session is None:
        return web.json_response({"error": "no session to sign out of: this request used a bearer token"},
                                 status=400)
    request.app[SESSIONS].revoke(session)
    for callback in request.app[SIGNED_OUT]:
        callback(session)
    resp = web.Response(status=303, headers={"Location": SIGNED_OUT_PATH})
    resp.del_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Strict", secure=request.secure)
    return resp


#: Called with the session that signed out (the live streams of that session end).
SIGNED_OUT = web.AppKey("signed_out", list)


def body_timeout_middleware(timeout: float, skip: frozenset[str] = frozenset({INGEST_PATH})) -> Callable:
    """Reads a request's body (bounded by the app's client_max_size) within `timeout` seconds before the handler
    runs: a client that sends headers and then trickles (or withholds) the body gets 408 and the connection is
    closed. Paths in `skip` read their body themselves, with their own limit and the same timeout (`ingest`)."""
    @web.middleware
    async def read_body(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.can_read_body and request.path not in skip:
            try:
                await asyncio.wait_for(request.read(), timeout)
            except asyncio.TimeoutError:
                return body_timed_out(request, timeout)
            except (web.RequestPayloadError, ConnectionError):  # bad Content-Encoding, an interrupted upload
                request.content.feed_eof()
                resp = web.json_response({"error": "could not read the request body"}, status=400)
                resp.force_close()
                return resp
        return await handler(request)

    return read_body


def body_timed_out(request: web.BaseRequest, timeout: float) -> web.Response:
    request.content.feed_eof()  # nothing more to drain: the connection closes after the reply
    resp = web.json_response({"error": f"the request body did not arrive within {timeout:g} s "
                                       "(SOCIALPULSE_DASHBOARD_BODY_TIMEOUT)"}, status=408)
    resp.force_close()
    return resp


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/") or request.path in ("/", "/logout", SIGNED_OUT_PATH):
        response.headers.setdefault("Cache-Control", "no-store")
    elif request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")
    # A response prepared by its handler (the live stream) still gets its re-issued session here.
    fresh = request.pop(_REISSUE, None) if _REISSUE in request else None
    if fresh is not None:
        set_session_cookie(response, request, fresh, request.app[SESSIONS].now())
