"""`socialpulse replay`: produce a file of mentions into `mentions.raw` with kafka-python (I/O)."""
from __future__ import annotations

import time
from pathlib import Path

import msgspec

from pipeline.codec import decode, encode
from pipeline.files import count_rows, iter_rows
from pipeline.identity import author_key
from pipeline.kafka_config import bulk_producer
from pipeline.progress import progress_bar
from pipeline.records import RawMention
from pipeline.reporting import FileSummary
from pipeline.settings import Settings
from pipeline.topics import RAW

_CSV_INTS = ("author_followers",)


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


def replay_file(s: Settings, path: Path, *, rate: float = 0.0, limit: int = 0, progress: bool = True,
                producer=None) -> FileSummary:
    """Send every non-blank line of `path`; invalid ones are reported (line number + reason) and sent too."""
    summary = FileSummary(f"replay {path.name}")
    with bulk_producer(s, producer, compression_type=None, max_request_size=4 << 20, retries=10) as producer:
        total = count_rows(path) if progress else None
        if total is not None and limit:
            total = min(total, limit)
        started = time.monotonic()
        with progress_bar(f"replay {path.name}", total, progress) as bar:
            for i, (line_no, row) in enumerate(iter_rows(path), 1):
                if limit and i > limit:
                    break
                value = _csv_to_json(row) if isinstance(row, dict) else row
                key, problem = message_key(value)
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
