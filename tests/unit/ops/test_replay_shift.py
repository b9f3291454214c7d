"""`replay --shift-to-now`: one whole-hour offset from the file's latest `created_at` to now, applied per record."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.domain.mention import parse_timestamp
from pipeline.ops.replay import created_at_of, file_offset, latest_created_at, messages, shift_offset, shift_record

UTC = timezone.utc


def at(text: str) -> datetime:
    return parse_timestamp(text)


def raw(**fields) -> bytes:
    doc = {"id": "tw-1", "channel": "twitter", "author": "jo", "text": "hello", **fields}
    return json.dumps(doc).encode()


@pytest.mark.parametrize("latest, now, hours", [
    ("2026-11-20T23:59:11Z", "2026-12-01T13:23:29Z", 254),   # the sample's end, a demo run
    ("2026-11-20T23:00:00Z", "2026-12-01T13:59:59.999Z", 254),
    ("2026-12-01T13:05:00Z", "2026-12-01T13:40:00Z", 0),      # already in this hour: nothing moves
    ("2026-12-01T15:10:00Z", "2026-12-01T13:40:00Z", -2),     # a file in the future moves back
    ("2026-11-20T23:59:11+02:00", "2026-12-01T13:23:29Z", 256),  # offsets are read as what they are (UTC 21:59)
])
def test_offset_is_whole_hours_that_put_the_latest_event_in_the_current_hour(latest, now, hours):
    offset = shift_offset(at(latest), at(now))
    assert offset == timedelta(hours=hours)
    moved = at(latest) + offset
    start = at(now).replace(minute=0, second=0, microsecond=0)
    assert start <= moved < start + timedelta(hours=1)
    assert (moved.minute, moved.second, moved.microsecond) == (at(latest).minute, at(latest).second,
                                                               at(latest).microsecond)


def test_a_shifted_record_keeps_everything_but_created_at():
    value = raw(created_at="2026-11-19T14:07:30Z", brand="Aerolux", metadata={"rating": 2, "x": [1, 2.5]},
                author_followers=12)
    out = json.loads(shift_record(value, timedelta(hours=253)))
    assert out.pop("created_at") == "2026-11-30T03:07:30.000Z"
    original = json.loads(value)
    original.pop("created_at")
    assert out == original


def test_hours_keep_their_shape():
    times = ["2026-11-19T14:00:00Z", "2026-11-19T14:59:59.500Z", "2026-11-19T15:00:00Z", "2026-11-20T23:59:11Z"]
    offset = shift_offset(at(times[-1]), at("2026-12-01T09:02:00Z"))
    shifted = [at(json.loads(shift_record(raw(created_at=t), offset))["created_at"]) for t in times]
    hour = lambda dt: dt.replace(minute=0, second=0, microsecond=0)  # noqa: E731
    assert [hour(b) - hour(a) for a, b in zip(map(at, times), shifted)] == [offset] * len(times)
    assert [b - a for a, b in zip(shifted, shifted[1:])] == [b - a for a, b in zip(list(map(at, times)),
                                                                                   list(map(at, times))[1:])]


@pytest.mark.parametrize("value", [
    raw(),                                             # no created_at: the pipeline stamps the time received
    raw(created_at=None),
    raw(created_at="yesterday"),                       # not a timestamp: dead-lettered with the original bytes
    raw(created_at=1763405643),                        # wrong type: idem
    b'{"id": "ig-trailing", "channel": "instagram", "author": "x", "text": "trailing comma",}',
    b"\x00\x01\x02binary\xff\xfe",
    b'"just a string"',
    json.dumps({"channel": "twitter", "author": "x", "text": "no id", "created_at": "2026-11-19T14:00:00Z"}).encode(),
])
def test_records_without_a_valid_created_at_are_left_alone(value):
    assert shift_record(value, timedelta(hours=5)) is value


def test_a_zero_offset_changes_nothing():
    value = raw(created_at="2026-11-19T14:07:30Z")
    assert shift_record(value, timedelta(0)) is value


def test_latest_created_at_ignores_lines_without_a_valid_one():
    values = [raw(created_at="2026-11-19T14:07:30Z"), raw(), b"PING", raw(created_at=1893456000),
              raw(created_at="2026-11-20T23:59:11Z"), raw(created_at="2026-11-18T01:00:00+05:00")]
    assert latest_created_at(iter(values)) == at("2026-11-20T23:59:11Z")
    assert latest_created_at(iter([raw(), b"PING"])) is None
    assert created_at_of(raw(created_at="2026-11-18T01:00:00+05:00")) == datetime(2026, 11, 17, 20, tzinfo=UTC)


def test_a_file_is_shifted_by_its_latest_event(tmp_path):
    path = tmp_path / "m.jsonl.gz"
    lines = [raw(id="a", created_at="2026-11-16T00:00:00Z"), b"PING", raw(id="b"),
             raw(id="c", created_at="2026-11-20T23:59:11Z"), raw(id="d", created_at="2026-11-20T10:30:00Z")]
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    offset = file_offset(path, at("2026-12-01T13:23:29Z"))
    assert offset == timedelta(hours=254)
    out = list(messages(path, offset=offset))
    assert [(n, problem is None) for n, _, _, problem in out] == [(1, True), (2, False), (3, True), (4, True),
                                                                  (5, True)]
    assert out[1][2] == b"PING"  # sent as it is, dead-lettered by the pipeline
    sent = {json.loads(v)["id"]: json.loads(v).get("created_at") for _, _, v, problem in out if problem is None}
    assert sent == {"a": "2026-11-26T14:00:00.000Z", "b": None, "c": "2026-12-01T13:59:11.000Z",
                    "d": "2026-12-01T00:30:00.000Z"}
    assert [k for _, k, _, _ in out] == [b"twitter:jo", None, b"twitter:jo", b"twitter:jo", b"twitter:jo"]


def test_without_a_shift_the_bytes_are_sent_as_they_are(tmp_path):
    path = tmp_path / "m.jsonl"
    lines = [raw(id="a", created_at="2026-11-16T00:00:00Z"), raw(id="b")]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert [v for _, _, v, _ in messages(path)] == lines


def test_with_a_limit_the_latest_event_sent_sets_the_offset(tmp_path):
    path = tmp_path / "m.jsonl"
    lines = [raw(id="a", created_at="2026-11-16T00:10:00Z"), raw(id="b", created_at="2026-11-20T23:59:11Z")]
    path.write_bytes(b"\n".join(lines) + b"\n")
    offset = file_offset(path, at("2026-12-01T13:23:29Z"), limit=1)
    assert [json.loads(v)["created_at"] for _, _, v, _ in messages(path, limit=1, offset=offset)] == \
        ["2026-12-01T13:10:00.000Z"]


def test_csv_rows_are_shifted_too(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,channel,author,text,created_at\nr1,reviews,ann,great,2026-11-20T08:15:00Z\n"
                    "r2,reviews,bob,fine,\n")
    offset = file_offset(path, at("2026-11-21T10:00:00Z"))
    assert offset == timedelta(hours=26)
    docs = [json.loads(v) for _, _, v, _ in messages(path, offset=offset)]
    assert [d.get("created_at") for d in docs] == ["2026-11-21T10:15:00.000Z", None]


def test_an_empty_or_timeless_file_is_not_shifted(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(raw() + b"\nPING\n")
    assert file_offset(path, at("2026-12-01T13:23:29Z")) == timedelta(0)


def test_the_samples_five_days_end_in_the_current_hour():
    from pipeline.tools.sample.generator import sample_dir

    path = sample_dir() / "mentions.jsonl.gz"
    before = path.read_bytes()
    now = datetime.now(UTC)
    offset = file_offset(path, now)
    times = [created_at_of(v) for _, _, v, problem in messages(path, offset=offset) if problem is None]
    shifted = sorted(t for t in times if t is not None)
    start = now.replace(minute=0, second=0, microsecond=0)
    assert start <= shifted[-1] < start + timedelta(hours=1)
    assert timedelta(days=4, hours=23) < shifted[-1] - shifted[0] < timedelta(days=5)
    assert path.read_bytes() == before  # the shipped file is only read
