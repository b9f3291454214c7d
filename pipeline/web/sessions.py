"""Dashboard sessions: what the cookie set by `/?token=` holds. A session is `v1.<issued>.<expires>.<id>.<mac>`:
Unix seconds, a random id and an HMAC-SHA256 of the rest under a key derived from the current token (so rotating
the token ends every session at once; the cookie never holds the token or anything it could be recovered from).

Sessions last `ttl` seconds (SOCIALPULSE_DASHBOARD_SESSION_TTL) and are re-issued (a new id) by a request that comes
after half of that (`due`), so a page in use stays signed in while an idle one expires. `revoke` (POST /logout)
refuses a session until it would have expired anyway; the revocations are kept in memory by this process only
(a restart forgets them, and a second dashboard process knows nothing of them).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Optional

from pipeline.web.tokens import TokenSource

VERSION = "v1"
#: A session issued up to this far "in the future" (clock adjusted backwards) is still accepted.
CLOCK_SKEW = 60


@dataclass(frozen=True)
class Session:
    sid: str
    issued: int
    expires: int
    value: str  # the cookie value

    def max_age(self, now: float) -> int:
        return max(0, int(self.expires - now))


def session_key(token: str) -> bytes:
    return hmac.new(token.encode("utf-8", "surrogateescape"), b"socialpulse-dashboard-session-key/v1",
                    hashlib.sha256).digest()


class Sessions:
    def __init__(self, tokens: TokenSource, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self.tokens, self.ttl, self._clock = tokens, int(ttl), clock
        self._revoked: dict[str, int] = {}  # sid -> expires
        self._key_for: tuple[str, bytes] = ("", b"")

    def now(self) -> float:
        return self._clock()

    def _key(self) -> bytes:
        token = self.tokens.current()
        if self._key_for[0] != token:
            self._key_for = (token, session_key(token))
        return self._key_for[1]

    def _mac(self, body: str) -> str:
        return hmac.new(self._key(), body.encode(), hashlib.sha256).hexdigest()

    def issue(self) -> Session:
        now = int(self._clock())
        sid = secrets.token_urlsafe(16)
        body = f"{VERSION}.{now}.{now + self.ttl}.{sid}"
        return Session(sid, now, now + self.ttl, f"{body}.{self._mac(body)}")

    def verify(self, value: str) -> Optional[Session]:
        """The session `value` holds when it is ours (MAC under the current token's key), unexpired and not revoked."""
        parts = value.split(".")
        if len(parts) != 5 or parts[0] != VERSION or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        body, mac = ".".join(parts[:4]), parts[4]
        if not hmac.compare_digest(mac.encode("utf-8", "surrogateescape"), self._mac(body).encode()):
            return None
        issued, expires, sid = int(parts[1]), int(parts[2]), parts[3]
        now = self._clock()
        if not (issued - CLOCK_SKEW <= now < expires) or expires - issued > self.ttl or sid in self._revoked:
            return None  # expired, from the future, longer than the ttl allows now, or signed out
        return Session(sid, issued, expires, value)

    def due(self, session: Session) -> bool:
        """True when `session` is past half its life: answer with a new one."""
        return self._clock() - session.issued >= self.ttl / 2

    def revoke(self, session: Session) -> None:
        now = self._clock()
        for sid in [sid for sid, expires in self._revoked.items() if expires <= now]:
            del self._revoked[sid]
        self._revoked[session.sid] = session.expires

    def revoked(self, session: Session) -> bool:
        return session.sid in self._revoked

    @property
    def revocations(self) -> int:
        return len(self._revoked)
