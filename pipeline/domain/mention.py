"""Ingest: decode + validate raw mentions, normalise text, timestamps, dead letters (pure)."""
from __future__ import annotations

import base64
import re
import unicodedata
from datetime import datetime, timezone
from typing import Optional

import msgspec

from pipeline.codec import decode
from pipeline.contract.records import DeadLetter, RawMention

MAX_RAW_BYTES = 1_048_576 + 65_536  # 1 MiB of text plus envelope; larger messages are dead-lettered undecoded
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES_RE = re.compile(r"\s+")


class Rejected(Exception):
    """An input that cannot be processed; `reason` goes to the dead-letter topic."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalise_text(text: str) -> str:
    """Unicode NFC, control and invisible formatting characters removed, whitespace runs collapsed to one space."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


def to_iso(dt: datetime) -> str:
    """UTC ISO 8601 with milliseconds and `Z`, the one timestamp format of every record we write."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_from_ms(ms: int) -> str:
    return to_iso(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 (with `Z` or an offset; a naive time is taken as UTC) → aware UTC datetime."""
    v = value.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    if not 1970 <= dt.year <= 2200:
        raise ValueError("year out of range")
    return dt.astimezone(timezone.utc)


def _utf8_error_offset(value: bytes, exc: UnicodeDecodeError) -> int:
    """Offset of the first invalid UTF-8 byte in the whole message (msgspec reports it within the string only)."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as full:
        return full.start
    return exc.start


def decode_mention(value: Optional[bytes]) -> RawMention:
    """Decode and validate one `mentions.raw` value; raises Rejected with a precise reason."""
    if value is None:
        raise Rejected("empty message (null value)")
    if len(value) > MAX_RAW_BYTES:
        raise Rejected(f"message too large: {len(value)} bytes > {MAX_RAW_BYTES}")
    try:
        m = decode(value, RawMention)
    except msgspec.ValidationError as exc:
        raise Rejected(f"schema: {exc}") from None
    except msgspec.DecodeError as exc:
        raise Rejected(f"invalid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise Rejected(f"invalid UTF-8 at byte {_utf8_error_offset(value, exc)}") from None
    except RecursionError:
        raise Rejected("invalid JSON: nested too deeply") from None
    text = normalise_text(m.text)
    if not normalise_text(m.author):
        raise Rejected("schema: author is blank")
    if not m.id.strip():
        raise Rejected("schema: id is blank")
    created = m.created_at
    if created is not None:
        try:
            created = to_iso(parse_timestamp(created))
        except ValueError:
            raise Rejected(f"schema: created_at {created[:64]!r} is not an ISO 8601 timestamp") from None
    return msgspec.structs.replace(m, text=text, created_at=created, author=m.author.strip())


def dead_letter(reason: str, stage: str, topic: str, partition: int, offset: int, key: Optional[bytes],
                value: Optional[bytes], failed_at: str) -> DeadLetter:
    """A DeadLetter keeping the original bytes: as text when valid UTF-8, else base64."""
    encoding = "utf-8"
    text: Optional[str] = None
    if value is not None:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(value).decode("ascii"), "base64"
    key_text = None if key is None else key.decode("utf-8", "backslashreplace")
    return DeadLetter(reason=reason[:2000], stage=stage, topic=topic, partition=partition, offset=offset,
                      key=key_text, value=text, value_encoding=encoding, failed_at=failed_at)
