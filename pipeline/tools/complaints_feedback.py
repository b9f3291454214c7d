"""Ops feedback as training data: the verdicts of ClickHouse `complaint_feedback` (docs/operations.md, "Complaint
feedback") with the text of the mention judged, as `LabelledText` rows for the complaint model's training and
evaluation (`scripts/train_complaints.py --feedback`).

Label 0 for `not_complaint`, 1 for `complaint` and `missed_complaint`; the latest verdict on a mention wins (one
row per mention); domain "feedback"; erased mentions have no text and drop out. `fetch_feedback` runs the query,
`labelled_from_rows` is the pure rest.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from pipeline.adapters.clickhouse.feedback_sql import FEEDBACK_TEXTS_SQL
from pipeline.domain.feedback import VERDICTS, verdict_label
from pipeline.tools.complaints_eval import LabelledText

#: The `domain` of every feedback row (complaints_eval groups its report by domain).
FEEDBACK_DOMAIN = "feedback"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def labelled_from_rows(rows: Iterable[Sequence[Any]]) -> list[LabelledText]:
    """Rows (feedback_id, mention_id, verdict, at, text, brand, channel) of FEEDBACK_TEXTS_SQL → one LabelledText per
    mention: its latest verdict (ties on `at` go to the higher feedback_id, so the answer does not depend on row
    order), in the order of those verdicts. Rows with an unknown verdict or no text are skipped."""
    latest: dict[str, tuple[Any, str, str, str, str]] = {}
    for feedback_id, mention_id, verdict, at, text, brand, _channel in rows:
        if verdict not in VERDICTS or not text:
            continue
        seen = latest.get(mention_id)
        if seen is None or (at, feedback_id) > (seen[0], seen[1]):
            latest[mention_id] = (at, feedback_id, verdict, text, brand or "")
    ordered = sorted(latest.items(), key=lambda kv: (kv[1][0], kv[1][1]))
    return [LabelledText(id=mention_id, text=text, label=verdict_label(verdict), domain=FEEDBACK_DOMAIN, brand=brand)
            for mention_id, (_at, _fid, verdict, text, brand) in ordered]


def since_of(days: Optional[int], now: Optional[datetime] = None) -> str:
    """The UTC start of the last `days` days as ClickHouse reads it ('YYYY-MM-DD HH:MM:SS'); None: all time."""
    if days is not None and days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    start = _EPOCH if days is None else (now or datetime.now(timezone.utc)) - timedelta(days=days)
    return start.strftime("%Y-%m-%d %H:%M:%S")


def fetch_feedback(client: Any, days: Optional[int] = None) -> list[LabelledText]:
    """The verdicts of the last `days` days (None: all) as labelled texts, one per mention (see the module).
    `client`: a clickhouse-driver Client on the project database (`pipeline.adapters.clickhouse.client.client`)."""
    return labelled_from_rows(client.execute(FEEDBACK_TEXTS_SQL, {"since": since_of(days)}))
