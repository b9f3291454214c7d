"""Ops feedback as training rows without ClickHouse: the latest verdict per mention, labels, domain, window start
(pipeline/tools/complaints_feedback.py; the query runs in tests/integration/test_complaint_feedback.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.tools.complaints_eval import LabelledText
from pipeline.tools.complaints_feedback import FEEDBACK_DOMAIN, fetch_feedback, labelled_from_rows, since_of

UTC = timezone.utc


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


def row(fid: str, mention: str, verdict: str, when: datetime, text: str = "", brand: str = "acme") -> tuple:
    return (fid, mention, verdict, when, text or f"text of {mention}", brand, "twitter")


def test_latest_verdict_per_mention_wins_and_labels():
    rows = [
        row("f1", "twitter:1", "not_complaint", at(9)),
        row("f2", "twitter:1", "complaint", at(11)),          # changed mind: the later one counts
        row("f3", "twitter:2", "missed_complaint", at(10)),
        row("f4", "twitter:3", "complaint", at(12)),
        row("f5", "twitter:3", "not_complaint", at(8)),       # older: ignored, whatever the row order
        row("f6", "email:4", "not_complaint", at(7), brand=""),
    ]
    got = labelled_from_rows(rows)
    assert got == [
        LabelledText(id="email:4", text="text of email:4", label=0, domain=FEEDBACK_DOMAIN, brand=""),
        LabelledText(id="twitter:2", text="text of twitter:2", label=1, domain=FEEDBACK_DOMAIN, brand="acme"),
        LabelledText(id="twitter:1", text="text of twitter:1", label=1, domain=FEEDBACK_DOMAIN, brand="acme"),
        LabelledText(id="twitter:3", text="text of twitter:3", label=1, domain=FEEDBACK_DOMAIN, brand="acme"),
    ]
    assert labelled_from_rows(reversed(rows)) == got  # order-independent


def test_ties_unknown_verdicts_and_missing_text():
    tie = [row("a", "twitter:1", "not_complaint", at(9)), row("b", "twitter:1", "complaint", at(9))]
    assert [r.label for r in labelled_from_rows(tie)] == [1]  # same instant: the higher feedback_id, stably
    assert [r.label for r in labelled_from_rows(tie[::-1])] == [1]
    assert labelled_from_rows([row("x", "twitter:1", "ack", at(9)),
                               ("y", "twitter:2", "complaint", at(9), "", "acme", "twitter")]) == []


def test_since_of():
    now = datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)
    assert since_of(7, now) == "2026-11-16 09:30:15"
    assert since_of(None) == "1970-01-01 00:00:00"
    with pytest.raises(ValueError):
        since_of(0)


def test_fetch_feedback_passes_the_window_as_a_parameter():
    class Client:
        def execute(self, sql, params):
            self.sql, self.params = sql, params
            return [row("f1", "twitter:1", "missed_complaint", at(9))]

    c = Client()
    assert [r.id for r in fetch_feedback(c, days=3)] == ["twitter:1"]
    assert "%(since)s" in c.sql and set(c.params) == {"since"}
