"""Where the dashboard's token comes from: fixed (SOCIALPULSE_DASHBOARD_TOKEN) or followed in a file
(`<data dir>/run/dashboard.token`, written with mode 0600). A followed file is looked at (one `stat`) at most
every `TOKEN_CHECK_SECONDS` when the token is asked for, and re-read when it changed, so
`socialpulse dashboard rotate-token` takes effect in a running dashboard within seconds, without a restart:
from then on the old token, and every session made with it (`sessions` derives its key from the token), is refused.
"""
from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Callable, Optional

from pipeline.adapters.secretfile import kept_secret, read_secret, write_secret

log = logging.getLogger(__name__)

TOKEN_FILE = "dashboard.token"
TOKEN_CHECK_SECONDS = 2.0


def token_file(data_dir: Path) -> Path:
    return Path(data_dir) / "run" / TOKEN_FILE


def new_token() -> str:
    return secrets.token_urlsafe(24)


def kept_token(path: Path) -> str:
    """The token kept in `path`, generated (mode 0600) the first time."""
    return kept_secret(path)


class TokenSource:
    """The current dashboard token. `path` None: fixed. Else the file is followed: `current()` re-reads it when its
    mtime, size or inode changed (checked at most every `check_every` seconds); an empty or missing file keeps the
    token in use. `on_change` callbacks run (with the new token) when it changed; `generation` counts the changes."""

    def __init__(self, token: str, path: Optional[Path] = None, *, check_every: float = TOKEN_CHECK_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not token:
            raise ValueError("the dashboard needs a non-empty token")
        self._token, self.path, self.check_every, self._clock = token, path, check_every, clock
        self._checked = clock()
        self._signature = self._stat()
        self.generation = 0
        self.on_change: list[Callable[[str], None]] = []

    @classmethod
    def following(cls, path: Path, **kwargs) -> "TokenSource":
        """Follow `path`, creating it (a new token, mode 0600) when missing."""
        return cls(kept_token(path), path, **kwargs)

    def _stat(self) -> Optional[tuple[int, int, int]]:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self) -> str:
        if self.path is not None and self._clock() - self._checked >= self.check_every:
            self._checked = self._clock()
            signature = self._stat()
            if signature != self._signature:
                self._signature = signature
                token = read_secret(self.path) if signature is not None else ""
                if token and not secrets.compare_digest(token.encode(), self._token.encode()):
                    self._token = token
                    self.generation += 1
                    log.warning("dashboard token changed (%s): earlier sessions and the old token are refused",
                                self.path.name)
                    for callback in list(self.on_change):
                        callback(token)
        return self._token
