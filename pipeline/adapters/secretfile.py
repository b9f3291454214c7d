"""Secrets kept in files of the data dir (I/O): the dashboard and ingest tokens, the embedded ClickHouse's
password. One way to create and replace them, so none ever exists with more than mode 0600, not even briefly."""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def read_secret(path: Path) -> str:
    """The secret in `path` ('' when the file is missing or empty)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _new_file(path: Path, value: str) -> Path:
    """A temporary file beside `path`, mode 0600 from its creation, holding `value`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def write_secret(path: Path, value: str) -> None:
    """Replace `path` by a file holding `value` (a reader sees the old value or the new one, never half of it)."""
    tmp = _new_file(path, value)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def kept_secret(path: Path, nbytes: int = 24) -> str:
    """The secret kept in `path`, generated the first time: written complete under a temporary name, then linked
    into place, so two processes starting at once agree on one secret. A kept file readable by others is
    tightened to 0600; an empty one is replaced."""
    kept = read_secret(path)
    if kept:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)
        return kept
    secret = secrets.token_urlsafe(nbytes)
    tmp = _new_file(path, secret)
    try:
        os.link(tmp, path)
    except FileExistsError:
        kept = read_secret(path)
        if kept:  # another process created it first: use that one
            return kept
        os.replace(tmp, path)  # present but empty (truncated by hand): replace it
    finally:
        tmp.unlink(missing_ok=True)
    return secret
