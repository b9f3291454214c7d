"""Reading input files line by line: JSONL, JSONL.gz and CSV, with line numbers (I/O)."""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterator, Optional, Union

Row = Union[bytes, dict]


def open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def is_csv(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(".csv")


def iter_rows(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, raw line bytes) for JSONL; (line number, dict) for CSV. Blank lines are skipped."""
    if is_csv(path):
        with open_text(path) as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise ValueError(f"{path}: empty CSV (no header row)")
            for row in reader:
                yield reader.line_num, row
        return
    # JSONL is read as bytes: a line with invalid UTF-8 is passed on untouched (and dead-lettered downstream).
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                yield n, line.rstrip(b"\r\n")


def count_rows(path: Path) -> Optional[int]:
    """Number of data rows (for the progress bar); None if counting would be too slow (> 200 MB)."""
    if path.stat().st_size > 200 << 20:
        return None
    return sum(1 for _ in iter_rows(path))
