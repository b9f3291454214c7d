"""What the dashboard writes to logs: its access log (method, path, status, time; never the query string, every
control or non-printable character escaped so a request cannot forge a log line) and the redaction of tokens in
every record that reaches aiohttp's loggers or the handlers of the root logger: the message, the traceback
(`exc_info` / `exc_text`) and `stack_info`. aiohttp's traceback for a malformed request (answered 400) becomes one
escaped line.
"""
from __future__ import annotations

import logging
import re
from typing import Iterable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

#: aiohttp's own loggers (none has children) and ours; the filter sits on each, so a record is scrubbed before any
#: handler, wherever it is configured, sees it.
REDACTED_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web", "aiohttp.internal", "asyncio",
                    "socialpulse.dashboard.access")


def escape(text: str) -> str:
    """`text` with every non-printable character (controls, line and paragraph separators, format characters…)
    and the backslash written as a Python-style escape: `\\n` → `\\x0a`, `\\u2028` → `\\u2028`."""
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"))
    return "".join(out)


class AccessLogger(AbstractAccessLogger):
    """Method, path (never the query string: it may hold the token), status and time; method and path escaped."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:  # noqa: A002
        self.logger.info("%s %s %s %.3fs", escape(request.method), escape(request.path), response.status, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class RedactTokens(logging.Filter):
    """Scrubs `token=…`, `Bearer …` and every registered secret (`add_secrets`: the dashboard and ingest tokens)
    from a record's message, traceback and stack. The traceback is formatted here (into `exc_text`, scrubbed) and
    `exc_info` dropped, so no formatter downstream can format the raw one again."""

    _PATTERNS = (re.compile(r"(token=)[^&\s\"'\\]*", re.IGNORECASE),
                 re.compile(r"(bearer\s+)[^\s\"',;\\]+", re.IGNORECASE))
    _formatter = logging.Formatter()
    secrets: set[str] = set()

    @classmethod
    def add_secrets(cls, values: Iterable[str]) -> None:
        cls.secrets.update(v for v in values if v and len(v) >= 8)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        for pattern in self._PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: keep it as it is, scrubbed
            message = str(record.msg)
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[0] is not None:
            if issubclass(record.exc_info[0], HttpProcessingError) and record.name == "aiohttp.server":
                # A malformed request is the client's mistake, answered with 400: one line, not a traceback.
                reason = " ".join(str(record.exc_info[1]).split())
                record.msg, record.args = "%s: %s", (self.scrub(message), escape(self.scrub(reason)))
                record.exc_info, record.exc_text = None, None
                if record.levelno > logging.WARNING:
                    record.levelno, record.levelname = logging.WARNING, "WARNING"
                return True
            record.exc_text = record.exc_text or self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def _add(filterer: logging.Filterer, f: RedactTokens) -> None:
    if not any(isinstance(x, RedactTokens) for x in filterer.filters):
        filterer.addFilter(f)


def install_log_redaction(secrets: Iterable[str] = ()) -> None:
    """The filter on aiohttp's loggers and ours (records logged there directly) and on every handler of the root
    logger (records of any logger that propagate there: a logger's filter does not see its children's records)."""
    RedactTokens.add_secrets(secrets)
    f = RedactTokens()
    for name in REDACTED_LOGGERS:
        _add(logging.getLogger(name), f)
    for handler in logging.getLogger().handlers:
        _add(handler, f)
