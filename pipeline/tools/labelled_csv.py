"""Labelled CSV files for the complaint model: the project's format (id,text,label,domain) and the airline-sentiment
format (tweet_id,airline,airline_sentiment,text; negative = complaint). Pure apart from reading the file."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from pipeline.textfile import read_text

REQUIRED_COLUMNS = ("text", "label")
#: Columns of the "Twitter US Airline Sentiment" format (shared/data/airline_dev.csv): negative = complaint.
AIRLINE_COLUMNS = ("airline", "airline_sentiment", "text")
AIRLINE_SENTIMENTS = ("positive", "neutral", "negative")
#: Rows larger than this are refused (a CSV field limit, so a broken quote cannot swallow the whole file silently).
MAX_FIELD = 100_000


class LabelledText(msgspec.Struct, frozen=True):
    """One labelled row: `label` is 1 for a complaint, 0 otherwise; `brand` is the brand the mention arrived with
    (the airline of an airline tweet; empty when the file has none), `sentiment` the human sentiment label of
    sentiment-labelled files (positive/neutral/negative; empty otherwise)."""

    id: str
    text: str
    label: int
    domain: str
    brand: str = ""
    sentiment: str = ""


def read_labelled_csv(path: str | Path) -> list[LabelledText]:
    """Rows of a labelled CSV (see module doc) — or of an airline-sentiment CSV (`parse_airline_csv`, recognised by
    its header). Raises ValueError naming the problem: missing or unreadable file, not UTF-8, no header, missing
    `text`/`label` column, a label other than 0/1 (with its line), no rows."""
    path = Path(path)
    content = read_text(path)
    head = [h.strip().lower() for h in next(csv.reader(io.StringIO(content.split("\n", 1)[0])), [])]
    if all(c in head for c in AIRLINE_COLUMNS) and "label" not in head:
        return parse_airline_csv(content, source=str(path))
    return parse_labelled_csv(content, source=str(path))


def airline_domain(airline: str) -> str:
    """The domain of an airline's tweets: "US Airways" → "airline:us_airways"."""
    return "airline:" + "_".join(airline.lower().split())


def _parse(content: str, source: str, columns: tuple[str, ...], expected: str,
           row: Callable[[int, dict[str, Any]], LabelledText]) -> list[LabelledText]:
    """The rows of CSV text whose header (lowercased) has `columns`: `row(line number, record)` makes each one; one
    ValueError naming `source` and the line for an empty file, a missing column, a line with more or fewer fields
    than the header, malformed CSV or no rows (`expected` describes the header in those messages)."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not header:
            raise ValueError(f"{source}: empty file (expected a header with columns {expected})")
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{source}: missing column(s) {', '.join(missing)}; header is {','.join(header)} "
                             f"(expected {expected})")
        reader.fieldnames = header
        rows: list[LabelledText] = []
        for number, record in enumerate(reader, start=2):
            if None in record:
                raise ValueError(f"{source}: line {number}: more fields than the header has")
            if record.get("text") is None:
                raise ValueError(f"{source}: line {number}: fewer fields than the header has")
            rows.append(row(number, record))
    except csv.Error as exc:
        raise ValueError(f"{source}: malformed CSV ({exc})") from None
    finally:
        csv.field_size_limit(old_limit)
    if not rows:
        raise ValueError(f"{source}: header but no rows")
    return rows


def parse_airline_csv(content: str, source: str = "<csv>") -> list[LabelledText]:
    """Rows of the airline-sentiment format (columns tweet_id, airline, airline_sentiment, text, …): label 1 for a
    `negative` tweet (the proxy for a complaint; shared/data/README.md says how far it holds), 0 for `positive` and
    `neutral`; `brand` the airline (as a mention of it would arrive), domain `airline:<name>`."""

    def row(number: int, record: dict[str, Any]) -> LabelledText:
        sentiment = (record.get("airline_sentiment") or "").strip().lower()
        if sentiment not in AIRLINE_SENTIMENTS:
            raise ValueError(f"{source}: line {number}: airline_sentiment must be one of "
                             f"{', '.join(AIRLINE_SENTIMENTS)}, got {sentiment!r}")
        airline = (record.get("airline") or "").strip()
        return LabelledText(id=(record.get("tweet_id") or str(number)).strip(), text=record["text"],
                            label=int(sentiment == "negative"), domain=airline_domain(airline or "unknown"),
                            brand=airline, sentiment=sentiment)

    return _parse(content, source, AIRLINE_COLUMNS, "tweet_id,airline,airline_sentiment,text", row)


def parse_labelled_csv(content: str, source: str = "<csv>") -> list[LabelledText]:
    """Rows of labelled CSV text; see `read_labelled_csv` for the checks."""

    def row(number: int, record: dict[str, Any]) -> LabelledText:
        label = (record.get("label") or "").strip()
        if label not in ("0", "1"):
            raise ValueError(f"{source}: line {number}: label must be 0 or 1, got {label!r}")
        return LabelledText(id=(record.get("id") or str(number)).strip(), text=record["text"], label=int(label),
                            domain=(record.get("domain") or "all").strip() or "all")

    return _parse(content, source, REQUIRED_COLUMNS, "id,text,label,domain", row)
