"""Ops feedback without servers: verdict ids and labels, measured precision and its interval (pipeline/domain/
feedback.py), verdict actions → complaint_feedback columns (columns.py), and the sink's routing of verdicts away
from the alert action log (runtime/sink.py)."""
from __future__ import annotations

import asyncio
from collections import namedtuple
from datetime import datetime, timezone

import pytest

from pipeline.adapters.clickhouse.columns import FEEDBACK_COLUMNS, INSERT_FEEDBACK, feedback_columns
from pipeline.codec import decoder, encode
from pipeline.contract import topics
from pipeline.contract.records import AlertAction
from pipeline.domain.feedback import (ALERT_VERDICTS, COMPLAINT_ALERT_TYPES, MENTION_VERDICTS, VERDICTS, feedback_id,
                                      precision_of, verdict_label, wilson_interval)

UTC = timezone.utc


def verdict(action: str = "not_complaint", *, alert_id: str = "complaint:1", by: str = "ann",
            at: str = "2026-11-23T09:00:00.000Z", mention_id: str = "twitter:1") -> AlertAction:
    return AlertAction(alert_id=alert_id, action=action, by=by, at=at, mention_id=mention_id, customer_id="C-1",
                       brand="acme", channel="twitter")


def test_verdicts_and_their_labels():
    assert VERDICTS == ("not_complaint", "complaint", "missed_complaint")
    assert set(ALERT_VERDICTS) | set(MENTION_VERDICTS) == set(VERDICTS)
    assert [verdict_label(v) for v in VERDICTS] == [0, 1, 1]
    with pytest.raises(ValueError, match="unknown verdict 'ack'"):
        verdict_label("ack")
    assert "spike" not in COMPLAINT_ALERT_TYPES and "vip_complaint" in COMPLAINT_ALERT_TYPES


def test_feedback_id_is_one_row_per_target_verdict_and_person():
    base = feedback_id("complaint:1", "twitter:1", "not_complaint", "ann")
    assert base == feedback_id("complaint:1", "twitter:1", "not_complaint", "ann")  # redelivered / clicked twice
    others = {feedback_id("complaint:1", "twitter:1", "complaint", "ann"),  # a changed mind
              feedback_id("complaint:1", "twitter:1", "not_complaint", "bo"),  # another reviewer
              feedback_id("", "twitter:1", "missed_complaint", "ann"),
              feedback_id("complaint:1", "twitter:2", "not_complaint", "ann")}
    assert base not in others and len(others) == 4
    # fields never run into each other
    assert feedback_id("a", "bc", "not_complaint", "x") != feedback_id("ab", "c", "not_complaint", "x")
    assert len(base) == 32 and int(base, 16) >= 0


def test_wilson_interval():
    assert wilson_interval(0, 0) == (None, None)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(0, 10)[0] == 0.0
    narrow = wilson_interval(800, 1000)
    assert narrow[1] - narrow[0] < 0.06 < high - low  # more reviews, narrower range


def test_precision_is_one_minus_not_complaints_over_reviewed():
    p = precision_of("acme", alerts=40, reviewed=10, not_complaint=2)
    assert (p.precision, p.confirmed, p.noisy) == (0.8, 8, True)
    assert p.low == pytest.approx(0.4902, abs=1e-4)
    assert precision_of("acme", 100, 25, 5).noisy is False
    none = precision_of("acme", 3, 0, 0)
    assert (none.precision, none.low, none.high, none.noisy) == (None, None, None, True)
    # inconsistent counts are clamped, never a negative precision
    odd = precision_of("acme", 1, 2, 5)
    assert (odd.reviewed, odd.not_complaint, odd.precision, odd.alerts) == (2, 2, 0.0, 2)


def test_verdict_actions_round_trip_and_old_actions_are_unchanged():
    dec = decoder(AlertAction)
    v = verdict("missed_complaint", alert_id="")
    assert dec.decode(encode(v)) == v
    ack = AlertAction(alert_id="complaint:1", action="ack", by="ann", at="2026-11-23T09:00:00.000Z")
    assert dec.decode(b'{"alert_id": "complaint:1", "action": "ack", "by": "ann", '
                      b'"at": "2026-11-23T09:00:00.000Z"}') == ack  # what older dashboards produce
    with pytest.raises(Exception):
        dec.decode(encode({"alert_id": "a", "action": "delete"}))


def test_feedback_columns():
    cols = feedback_columns([verdict(), verdict("missed_complaint", alert_id="", at="")],
                            now=datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert len(cols) == len(FEEDBACK_COLUMNS)
    rows = [dict(zip(FEEDBACK_COLUMNS, r)) for r in zip(*cols)]
    assert rows[0]["feedback_id"] == feedback_id("complaint:1", "twitter:1", "not_complaint", "ann")
    assert rows[0]["at"] == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert rows[1]["at"] == datetime(2026, 11, 23, 10, tzinfo=UTC)  # no `at`: the time written
    assert (rows[1]["alert_id"], rows[1]["verdict"], rows[1]["mention_id"]) == ("", "missed_complaint", "twitter:1")
    assert (rows[0]["customer_id"], rows[0]["brand"], rows[0]["channel"], rows[0]["by"]) == \
        ("C-1", "acme", "twitter", "ann")
    assert INSERT_FEEDBACK.startswith("INSERT INTO complaint_feedback (`feedback_id`, `at`, `verdict`")


class FakeWriter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list, str]] = []

    def apply_actions(self, rows, token):
        self.calls.append(("alert_actions", list(rows), token))
        return len(rows)

    def insert_feedback(self, rows, token):
        self.calls.append(("complaint_feedback", list(rows), token))
        return len(rows)


def test_the_sink_writes_verdicts_to_complaint_feedback_and_the_rest_to_alert_actions():
    from pipeline.runtime.sink import SinkService
    from pipeline.settings import Settings

    R = namedtuple("R", "topic partition offset key value")
    ack = AlertAction(alert_id="complaint:1", action="ack", by="ann", at="2026-11-23T09:00:00.000Z")
    records = [R(topics.ACTIONS, 0, 7, b"complaint:1", encode(ack)),
               R(topics.ACTIONS, 0, 8, b"complaint:1", encode(verdict())),
               R(topics.ACTIONS, 1, 3, b"twitter:1", encode(verdict("missed_complaint", alert_id=""))),
               R(topics.ACTIONS, 1, 4, b"x", b"{not json")]

    async def main():
        writer = FakeWriter()
        await SinkService(Settings(), writer=writer).write(records)
        return writer.calls

    calls = asyncio.run(main())
    assert [(t, [a.action for a in rows]) for t, rows, _ in calls] == [
        ("alert_actions", ["ack"]), ("complaint_feedback", ["not_complaint", "missed_complaint"])]
    assert calls[0][2] != calls[1][2]  # one dedup token per table, both from the batch's offsets
    assert calls[1][2].startswith("complaint_feedback|")
