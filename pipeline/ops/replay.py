"""`socialpulse replay`: produce a file of mentions into `mentions.raw` with kafka-python (I/O).

With a shift (`--shift-to-now`), every valid mention's `created_at` moves by one whole number of hours so that the
file's latest `created_at` falls in the hour of "now" (`shift_offset`, `shift_record`: pure)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, Optional

import msgspec

from pipeline.adapters.files import count_rows, iter_rows
from pipeline.adapters.kafka.config import bulk_producer
from pipeline.codec import decode, encode
from pipeline.contract.records import RawMention
from pipeline.contract.topics import RAW
from pipeline.domain.identity import author_key
from pipeline.domain.mention import parse_timestamp, to_iso
from pipeline.ops.progress import progress_bar
from pipeline.ops.reporting import FileSummary
from pipeline.settings import Settings

_CSV_INTS = ("author_followers",)
HOUR = timedelta(hours=1)


def _csv_to_json(row: dict) -> bytes:
    doc = {k: v for k, v in row.items() if k and v not in (None, "")}
    for k in _CSV_INTS:
        if k in doc:
            try:
                doc[k] = int(doc[k])
            except ValueError:
                pass  # left as text: the pipeline dead-letters it with the reason
    return encode(doc)


def message_key(value: bytes) -> tuple[bytes | None, str | None]:
    """(`<channel>:<author>` key, None) for a valid mention, else (best-effort key or None, the reason)."""
    try:
        m = decode(value, RawMention)
    except msgspec.MsgspecError as exc:
        return None, str(exc)
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}"
    return author_key(m.channel, m.author).encode(), None


# --- shifting event times (pure) --------------------------------------------------------------------------------

def _start_of_hour(dt: datetime) -> datetime:
    return dt.replace(minute=0, second=0, microsecond=0)


def shift_offset(latest: datetime, now: datetime) -> timedelta:
    """The whole number of hours that moves `latest` into the hour of `now` (both aware datetimes).

    Minutes and seconds within the hour are kept, so hour buckets keep their shape; the latest event can therefore
    lie up to 59 minutes after `now` (its minute in the hour is later than now's)."""
    return _start_of_hour(now) - _start_of_hour(latest)


def created_at_of(value: bytes) -> Optional[datetime]:
    """The `created_at` of a valid mention, or None (no `created_at`, not a timestamp, not a valid mention)."""
    try:
        m = decode(value, RawMention)
        return parse_timestamp(m.created_at) if m.created_at is not None else None
    except (msgspec.MsgspecError, UnicodeDecodeError, ValueError):
        return None


def latest_created_at(values: Iterator[bytes]) -> Optional[datetime]:
    """The latest `created_at` among the valid mentions of `values` (None when none has one)."""
    latest = None
    for value in values:
        ts = created_at_of(value)
        if ts is not None and (latest is None or ts > latest):
            latest = ts
    return latest


def shift_record(value: bytes, offset: timedelta) -> bytes:
    """`value` with its `created_at` moved by `offset` (written as UTC ISO 8601 with ms, like ingest does).

    Returned unchanged when it is not a valid mention or has no (valid) `created_at`: the pipeline then treats it
    as it would unshifted (time received, or a dead letter with the original bytes)."""
    ts = created_at_of(value)
    if ts is None or not offset:
        return value
    doc = msgspec.json.decode(value)
    doc["created_at"] = to_iso(ts + offset)
    return encode(doc)


# --- I/O --------------------------------------------------------------------------------------------------------

def _values(path: Path, limit: int) -> Iterator[tuple[int, bytes]]:
    for i, (line_no, row) in enumerate(iter_rows(path), 1):
        if limit and i > limit:
            return
        yield line_no, (_csv_to_json(row) if isinstance(row, dict) else row)


def file_offset(path: Path, shift_to: datetime, *, limit: int = 0) -> timedelta:
    """`shift_offset` from the latest `created_at` of the first `limit` (0 = all) lines of `path` to `shift_to`;
    zero when no line has one. Reads the file once."""
    latest = latest_created_at(value for _, value in _values(path, limit))
    return timedelta(0) if latest is None else shift_offset(latest, shift_to)


def messages(path: Path, *, limit: int = 0, offset: timedelta = timedelta(0)
             ) -> Iterator[tuple[int, Optional[bytes], bytes, Optional[str]]]:
    """(line number, key, value, problem or None) per non-blank line, values shifted by `offset`."""
    for line_no, value in _values(path, limit):
        key, problem = message_key(value)
        yield line_no, key, (value if problem else shift_record(value, offset)), problem


def replay_file(s: Settings, path: Path, *, rate: float = 0.0, limit: int = 0, progress: bool = True,
                producer=None, shift_to: Optional[datetime] = None, offset: Optional[timedelta] = None
                ) -> FileSummary:
    """Send every non-blank line of `path`; invalid ones are reported (line number + reason) and sent too.

    `shift_to` (an aware datetime, e.g. now): shift every valid mention's `created_at` by `file_offset`;
    `offset`: by this offset instead (e.g. the one an earlier replay of the file used)."""
    summary = FileSummary(f"replay {path.name}")
    if offset is None and shift_to is not None:
        offset = file_offset(path, shift_to, limit=limit)
    if offset is not None:
        summary.extra["created_at shifted by (hours)"] = round(offset / HOUR)
    offset = offset or timedelta(0)
    with bulk_producer(s, producer, compression_type=None, max_request_size=4 << 20, retries=10) as producer:
        total = count_rows(path) if progress else None
        if total is not None and limit:
            total = min(total, limit)
        started = time.monotonic()
        with progress_bar(f"replay {path.name}", total, progress) as bar:
            for i, (line_no, key, value, problem) in enumerate(messages(path, limit=limit, offset=offset), 1):
                if problem:
                    summary.report_bad(line_no, problem)
                producer.send(RAW, key=key, value=value)
                summary.sent += 1
                bar.advance()
                if rate > 0:
                    ahead = started + i / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
    summary.seconds = time.monotonic() - started
    return summary
