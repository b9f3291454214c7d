"""Which ClickHouse errors are transient (waiting cures them) and a short, log-safe description of an error; used
by the writer's retry loop (`pipeline.adapters.clickhouse.writer`)."""
from __future__ import annotations

import re

from clickhouse_driver import errors as ch_errors

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
#: Exceptions the retry loop inspects with `is_transient` (anything else is raised at once).
RETRY_CANDIDATES = _NETWORK_ERRORS + (ch_errors.ServerException,)
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
