"""`POST /api/mentions`: mentions over HTTP, for services and webhooks that cannot speak Kafka (docs/api.md).

The body is a JSON object (one mention), a JSON array of them, or NDJSON (one per line). NDJSON when the
Content-Type says so (`application/x-ndjson`, `application/ndjson`, `application/jsonl`, …), or when the body is
not one JSON value but its first non-blank line is a JSON object by itself; anything else must be one JSON
object or array (else 400 with the parser's one-line reason). Every item is validated exactly as the worker does
(`decode_mention`): valid ones are produced to `mentions.raw` as their original bytes with the key
`<channel>:<author>` (like `socialpulse replay`), rejected ones to `mentions.deadletter` (stage `http`, topic
`http`, partition -1, offset = their line) and listed in the reply. The reply waits for the broker's
acknowledgement of every record: `202 {"accepted": N, "rejected": [{"line": i, "reason": "..."}]}`, where `line`
is the 1-based line for NDJSON, the array index + 1 for an array, 1 for an object.

Auth: `Authorization: Bearer <ingest token>`, one of the comma-separated `SOCIALPULSE_INGEST_TOKEN`, compared in
constant time (`hmac.compare_digest`, every token compared); the dashboard token and cookie are not accepted.
No token configured: 503 (HTTP ingest off). Limits: `ingest_max_bytes` (413, read with the cap, never more
buffered), `dashboard_body_timeout` (the body must arrive within it, else 408), `ingest_max_items` (413), a token
bucket per ingest token (`ingest_rate`/s up to `ingest_burst`: 429 with Retry-After; a body larger than the
burst: 413). Kafka failing: 503, retry the whole body (mention ids are idempotent downstream).
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional, Sequence

import msgspec
from aiohttp import web

from pipeline import metrics
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.domain.identity import author_key
from pipeline.domain.mention import Rejected, dead_letter, decode_mention, to_iso
from pipeline.settings import Settings
from pipeline.web.api import FEED
from pipeline.web.auth import INGEST_PATH
from pipeline.web.feed import OutRecord
from pipeline.web.ratelimit import Clock, RateLimiter, retry_after

#: What `server` wires: the route (INGEST_PATH, defined beside the auth exemption) and its handler.
__all__ = ["INGEST_PATH", "MentionsEndpoint", "split_body", "triage"]

log = logging.getLogger(__name__)

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl",
                          "application/jsonlines", "application/x-jsonlines", "application/json-seq"})
STAGE = SOURCE = "http"  # the dead letters' stage and topic
SEND_TIMEOUT = 30.0
#: A rejected item keeps its bytes in the dead letter up to this size (the worker's bound: mentions.raw's limit).
MAX_DEAD_VALUE = 2 << 20
_BOM = b"\xef\xbb\xbf"
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_ONE = msgspec.json.Decoder(msgspec.Raw)
UNAVAILABLE = "Kafka unavailable, nothing or part accepted: retry the whole body (ids make it idempotent)"
OFF = "HTTP ingest is off: set SOCIALPULSE_INGEST_TOKEN"


class BadBody(Exception):
    """A body that holds no mentions we can split (not JSON, empty, a bare string…): 400 with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Item:
    line: int  # 1-based: NDJSON line, array index + 1, or 1 for an object
    value: bytes


# --- parsing (pure) ----------------------------------------------------------------------------------------------

def ndjson_items(body: bytes) -> list[Item]:
    """One item per non-blank line, numbered by line (blank lines count but yield nothing)."""
    return [Item(n, line.strip()) for n, line in enumerate(body.split(b"\n"), 1) if line.strip()]


def _is_object(value: bytes) -> bool:
    try:
        _ONE.decode(value)
    except (msgspec.MsgspecError, RecursionError):
        return False
    return value.lstrip().startswith(b"{")


def split_body(body: bytes, content_type: str = "application/json") -> list[Item]:
    """The body's items (see the module doc for the rule); raises BadBody."""
    if body.startswith(_BOM):
        body = body[len(_BOM):]
    if not body.strip():
        raise BadBody("empty body: send a JSON object, a JSON array of objects or NDJSON (one object per line)")
    if content_type.lower() in NDJSON_TYPES:
        return ndjson_items(body)
    try:
        _ONE.decode(body)
    except (msgspec.MsgspecError, RecursionError) as exc:
        lines = [line for line in body.split(b"\n") if line.strip()]
        if len(lines) > 1 and _is_object(lines[0]):
            return ndjson_items(body)
        reason = str(exc) if isinstance(exc, msgspec.MsgspecError) else "nested too deeply"
        raise BadBody(f"not a JSON object, array or NDJSON: {reason}") from None
    start = body.lstrip()[:1]
    if start == b"{":
        return [Item(1, body.strip())]
    if start == b"[":
        return [Item(i, bytes(raw)) for i, raw in enumerate(_ITEMS.decode(body), 1)]
    raise BadBody("expected a JSON object, a JSON array of objects or NDJSON (one object per line)")


@dataclass
class Triage:
    records: list[OutRecord] = field(default_factory=list)
    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)


def triage(items: Sequence[Item], failed_at: str) -> Triage:
    """Valid items → mentions.raw (original bytes, key `<channel>:<author>`), rejected ones → a dead letter each
    and a `{"line", "reason"}` for the reply; the records keep the body's order."""
    out = Triage()
    for item in items:
        try:
            m = decode_mention(item.value)
        except Rejected as exc:
            kept = item.value if len(item.value) <= MAX_DEAD_VALUE else None
            letter = dead_letter(exc.reason, STAGE, SOURCE, -1, item.line, None, kept, failed_at)
            out.records.append((topics.DEADLETTER, None, encode(letter)))
            out.rejected.append({"line": item.line, "reason": exc.reason})
        else:
            out.records.append((topics.RAW, author_key(m.channel, m.author).encode(), item.value))
            out.accepted += 1
    return out


# --- tokens and limits -------------------------------------------------------------------------------------------

def ingest_tokens(value: str) -> list[str]:
    """`SOCIALPULSE_INGEST_TOKEN` → its tokens (comma separated, surrounding spaces ignored, empty ones dropped)."""
    return [t.strip() for t in value.split(",") if t.strip()]


def match_token(header: str, tokens: Sequence[bytes]) -> Optional[int]:
    """The index of the ingest token `Authorization: Bearer …` carries, or None. Every token is compared
    (`hmac.compare_digest`), so the time taken says nothing about which one nearly matched."""
    if header[:7].lower() != "bearer ":
        return None
    presented = header[7:].strip().encode("utf-8", "surrogateescape")
    found = None
    for i, token in enumerate(tokens):
        if hmac.compare_digest(presented, token) and found is None:
            found = i
    return found


def _error(status: int, message: str, headers: Optional[dict[str, str]] = None) -> web.Response:
    metrics.HTTP_INGEST_REFUSED.labels(str(status)).inc()
    return web.json_response({"error": message}, status=status, headers=headers)


class TooLarge(Exception):
    pass


async def read_capped(request: web.BaseRequest, cap: int) -> bytes:
    """The request body, refusing (TooLarge) once more than `cap` bytes arrived: never more than that buffered."""
    if request.content_length is not None and request.content_length > cap:
        raise TooLarge()
    chunks, size = [], 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise TooLarge()
        chunks.append(chunk)


class MentionsEndpoint:
    """The handler of `POST /api/mentions` (`post`), holding the ingest tokens and one rate limiter per token."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.s = settings
        self.tokens = [t.encode("utf-8", "surrogateescape") for t in ingest_tokens(settings.ingest_token)]
        self.limiter = RateLimiter(settings.ingest_rate, settings.ingest_burst, clock)

    async def post(self, request: web.Request) -> web.Response:
        s = self.s
        if not self.tokens:
            return _error(503, OFF)
        who = match_token(request.headers.get("Authorization", ""), self.tokens)
        if who is None:
            return _error(401, "unauthorized: send `Authorization: Bearer <ingest token>` (SOCIALPULSE_INGEST_TOKEN; "
                               "the dashboard token is not accepted here)",
                          {"WWW-Authenticate": 'Bearer realm="socialpulse-ingest"'})
        try:
            body = await asyncio.wait_for(read_capped(request, s.ingest_max_bytes), s.dashboard_body_timeout)
        except asyncio.TimeoutError:
            request.content.feed_eof()
            resp = _error(408, f"the body did not arrive within {s.dashboard_body_timeout:g} s "
                               "(SOCIALPULSE_DASHBOARD_BODY_TIMEOUT): send it at once, or in smaller requests")
            resp.force_close()
            return resp
        except TooLarge:
            return _error(413, f"body larger than {s.ingest_max_bytes} bytes (SOCIALPULSE_INGEST_MAX_BYTES): "
                               "split it into several requests")
        except (web.RequestPayloadError, ConnectionError):
            # The body is unreadable: nothing more to drain (aiohttp would re-raise its error into its own log while
            # draining), and the connection closes after the reply (its stream is not at a request boundary).
            request.content.feed_eof()
            resp = _error(400, "could not read the body: an interrupted upload, or not the Content-Encoding it claims")
            resp.force_close()
            return resp
        try:
            items = split_body(body, request.content_type)
        except BadBody as exc:
            return _error(400, exc.reason)
        cap = min(s.ingest_max_items, s.ingest_burst)
        if len(items) > cap:
            which = "SOCIALPULSE_INGEST_MAX_ITEMS" if cap == s.ingest_max_items else "SOCIALPULSE_INGEST_BURST"
            return _error(413, f"{len(items)} mentions in one request, at most {cap} ({which}): split the body")
        wait = self.limiter.take(who, len(items))
        if wait > 0:
            seconds = retry_after(wait)
            return _error(429, f"rate limit of this ingest token ({s.ingest_rate:g} mentions/s, bursts of "
                               f"{s.ingest_burst}): retry in {seconds} s", {"Retry-After": str(seconds)})
        result = triage(items, to_iso(datetime.now(timezone.utc)))
        if result.records:
            try:
                await asyncio.wait_for(request.app[FEED].send_many(result.records), SEND_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - Kafka down is an answer, not a crash
                log.warning("POST /api/mentions could not produce: %s", type(exc).__name__)
                return _error(503, UNAVAILABLE, {"Retry-After": "5"})
        metrics.HTTP_INGEST.labels("accepted").inc(result.accepted)
        metrics.HTTP_INGEST.labels("rejected").inc(len(result.rejected))
        if result.rejected:
            metrics.DEADLETTERS.labels(STAGE).inc(len(result.rejected))
        return web.json_response({"accepted": result.accepted, "rejected": result.rejected}, status=202)
