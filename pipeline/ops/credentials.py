"""Credentials generated once and kept in the data dir: the embedded ClickHouse server's password (I/O).

The rule of which user/password a client uses is `pipeline.settings.with_embedded_clickhouse_password` (pure);
`load_settings()` reads the kept password, this module creates it (`Stack`, `EmbeddedClickHouse`, the tests)."""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from pipeline.settings import Settings, clickhouse_password_path, with_embedded_clickhouse_password


def kept_secret(path: Path, nbytes: int = 24) -> str:
    """The secret kept in `path`, generated the first time. The file never exists with more than mode 0600, not even
    briefly: it is created 0600 under a temporary name, written, then linked into place, so it is complete when it
    appears and two processes starting at once agree on one secret. A kept file readable by others is tightened."""
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(nbytes)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secret.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        kept = path.read_text().strip()
        if kept:  # another process created it first: use that one
            return kept
        os.replace(tmp, path)  # present but empty (truncated by hand): replace it
    finally:
        tmp.unlink(missing_ok=True)
    return secret


def embedded_clickhouse_settings(s: Settings) -> Settings:
    """`s` with the credentials of its embedded ClickHouse server: user `socialpulse` (for `default`) and, unless a
    password is configured, the one generated once into `<data dir>/run/clickhouse.password`. Idempotent; an
    external ClickHouse: `s` unchanged."""
    if not s.clickhouse_is_embedded:
        return s
    return with_embedded_clickhouse_password(
        s, s.clickhouse_password or kept_secret(clickhouse_password_path(s.data_dir)))
