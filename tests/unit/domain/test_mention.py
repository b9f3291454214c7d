"""pipeline/domain/mention.py: text normalisation, decoding/validation with reasons, timestamps, dead letters."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.domain.mention import (MAX_RAW_BYTES, Rejected, dead_letter, decode_mention, iso_from_ms, normalise_text,
                             parse_timestamp, to_iso)
from pipeline.contract.records import MAX_TEXT_LEN, DeadLetter, RawMention

FAILED_AT = "2024-05-01T12:00:00.000Z"


def raw(**fields) -> bytes:
    doc = {"id": "123", "channel": "twitter", "author": "@Bob", "text": "hello"}
    doc.update(fields)
    doc = {k: v for k, v in doc.items() if v is not ...}
    return json.dumps(doc).encode()


def reason_of(value) -> str:
    with pytest.raises(Rejected) as info:
        decode_mention(value)
    assert str(info.value) == info.value.reason
    return info.value.reason


# --- normalise_text -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("e\u0301", "\u00e9"),  # NFC composes e + combining acute
    ("Cafe\u0301 ok", "Café ok"),
    ("a\u200bb", "ab"),  # zero-width space
    ("a\u200c\u200db", "ab"),  # zero-width (non-)joiner
    ("\ufeffhello", "hello"),  # BOM
    ("a\u2060b", "ab"),  # word joiner
    ("evil\u202etxt", "eviltxt"),  # bidi override
    ("a\x00b\x07c\x1bd\x7fe\x85f", "abcdef"),  # C0/C1 controls, DEL
    ("  a \t\t b\n\n\nc\r\nd  ", "a b c d"),
    ("a\u00a0\u00a0b", "a b"),  # no-break spaces are whitespace
    ("a\u2028b\u2029c", "abc"),  # line/paragraph separators are removed
    ("", ""),
    ("   ", ""),
    ("déjà vu 😀", "déjà vu 😀"),
])
def test_normalise_text(text, expected):
    assert normalise_text(text) == expected


# --- decode_mention: accepted -------------------------------------------------------------------------------------

def test_decode_minimal():
    m = decode_mention(raw())
    assert m == RawMention(id="123", channel="twitter", author="@Bob", text="hello")
    assert m.created_at is None


def test_decode_normalises_text_and_strips_author():
    m = decode_mention(raw(text="  so   bad\u200b\n service e\u0301 ", author="  @Bob  "))
    assert m.text == "so bad service é"
    assert m.author == "@Bob"


def test_decode_keeps_optional_fields():
    m = decode_mention(raw(brand="acme", url="https://t.co/x", lang="en", author_name="Bob S", author_followers=12,
                           author_email="bob@example.com", in_reply_to="99", metadata={"likes": 3, "x": [1, 2]}))
    assert (m.brand, m.url, m.lang, m.author_name, m.author_followers, m.author_email, m.in_reply_to) == (
        "acme", "https://t.co/x", "en", "Bob S", 12, "bob@example.com", "99")
    assert m.metadata == {"likes": 3, "x": [1, 2]}


@pytest.mark.parametrize("given,expected", [
    ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000Z"),
    ("2024-03-01T10:00:00z", "2024-03-01T10:00:00.000Z"),
    ("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00.000Z"),
    ("2024-03-01T23:30:00-05:00", "2024-03-02T04:30:00.000Z"),
    ("2024-03-01T10:00:00.123456Z", "2024-03-01T10:00:00.123Z"),
    ("2024-03-01T10:00:00.5+00:00", "2024-03-01T10:00:00.500Z"),
    ("2024-03-01T10:00:00", "2024-03-01T10:00:00.000Z"),  # naive → UTC
    ("2024-03-01 10:00:00", "2024-03-01T10:00:00.000Z"),
    (" 2024-03-01T10:00:00Z ", "2024-03-01T10:00:00.000Z"),
    ("2024-03-01", "2024-03-01T00:00:00.000Z"),
])
def test_created_at_normalised_to_utc_millis(given, expected):
    assert decode_mention(raw(created_at=given)).created_at == expected


# --- decode_mention: rejected --------------------------------------------------------------------------------------

def test_reject_null_value():
    assert reason_of(None) == "empty message (null value)"


def test_reject_json_null():
    assert reason_of(b"null") == "schema: Expected `object`, got `null`"


def test_reject_invalid_json():
    assert reason_of(b"{not json").startswith("invalid JSON: ")
    assert reason_of(b"").startswith("invalid JSON: ")
    assert reason_of(raw() + b"}").startswith("invalid JSON: ")


def test_reject_wrong_type():
    assert reason_of(b"[1, 2]") == "schema: Expected `object`, got `array`"
    assert reason_of(raw(id=123)) == "schema: Expected `str`, got `int` - at `$.id`"
    assert reason_of(raw(author_followers="many")) == "schema: Expected `int | null`, got `str` - at `$.author_followers`"
    assert reason_of(raw(author_followers=-1)) == "schema: Expected `int` >= 0 - at `$.author_followers`"


@pytest.mark.parametrize("name", ["id", "channel", "author", "text"])
def test_reject_missing_field(name):
    assert reason_of(raw(**{name: ...})) == f"schema: Object missing required field `{name}`"


@pytest.mark.parametrize("channel", ["Twitter", "TWITTER", "twit ter", "1twitter", ""])
def test_reject_bad_channel(channel):
    reason = reason_of(raw(channel=channel))
    assert reason.startswith("schema: Expected `str` matching regex")
    assert reason.endswith("- at `$.channel`")


@pytest.mark.parametrize("author", ["   ", "\u200b", "\t\n"])
def test_reject_blank_author(author):
    assert reason_of(raw(author=author)) == "schema: author is blank"


def test_reject_empty_author():
    assert reason_of(raw(author="")) == "schema: Expected `str` of length >= 1 - at `$.author`"


def test_reject_blank_id():
    assert reason_of(raw(id="  ")) == "schema: id is blank"


@pytest.mark.parametrize("created_at", ["yesterday", "2024-13-01T00:00:00Z", "01/03/2024", "1900-01-01T00:00:00Z"])
def test_reject_bad_created_at(created_at):
    assert reason_of(raw(created_at=created_at)) == (
        f"schema: created_at {created_at!r} is not an ISO 8601 timestamp")


def test_reject_too_large_message():
    value = raw(text="x" * MAX_RAW_BYTES)
    assert reason_of(value) == f"message too large: {len(value)} bytes > {MAX_RAW_BYTES}"


def test_reject_text_over_cap():
    reason = reason_of(raw(text="x" * (MAX_TEXT_LEN + 1)))
    assert reason == f"schema: Expected `str` of length <= {MAX_TEXT_LEN} - at `$.text`"


def test_reject_invalid_utf8_names_byte_offset():
    value = b'{"id":"1","channel":"twitter","author":"b","text":"a\xffb"}'
    assert value.index(b"\xff") == 52
    # the offset is within the whole message, not within the JSON string
    assert reason_of(value) == "invalid UTF-8 at byte 52"


# --- timestamps ------------------------------------------------------------------------------------------------------

def test_to_iso_and_iso_from_ms():
    dt = datetime(2024, 3, 1, 12, 0, 0, 987_654, tzinfo=timezone(timedelta(hours=2)))
    assert to_iso(dt) == "2024-03-01T10:00:00.987Z"
    assert iso_from_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_from_ms(1_709_287_200_123) == "2024-03-01T10:00:00.123Z"


def test_parse_timestamp_is_aware_utc():
    dt = parse_timestamp("2024-03-01T12:00:00+02:00")
    assert dt == datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    assert dt.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        parse_timestamp("3000-01-01T00:00:00Z")


# --- dead letters ----------------------------------------------------------------------------------------------------

def test_dead_letter_keeps_utf8_as_text():
    value = '{"text": "café 😀"'.encode()
    dl = dead_letter("invalid JSON: x", "ingest", "mentions.raw", 3, 42, b"twitter:bob", value, FAILED_AT)
    assert dl == DeadLetter(reason="invalid JSON: x", stage="ingest", topic="mentions.raw", partition=3, offset=42,
                            key="twitter:bob", value='{"text": "café 😀"', value_encoding="utf-8", failed_at=FAILED_AT)


def test_dead_letter_non_utf8_as_base64_round_trips():
    value = b'{"text": "\xff\xfe\x00 binary \x80"}'
    dl = dead_letter("invalid UTF-8 at byte 10", "ingest", "mentions.raw", 0, 7, None, value, FAILED_AT)
    assert dl.value_encoding == "base64"
    assert dl.value == base64.b64encode(value).decode("ascii")
    assert base64.b64decode(dl.value) == value
    assert dl.key is None


def test_dead_letter_null_value_and_odd_key():
    dl = dead_letter("empty message (null value)", "ingest", "mentions.raw", 1, 5, b"tw\xffx", None, FAILED_AT)
    assert dl.value is None
    assert dl.value_encoding == "utf-8"
    assert dl.key == "tw\\xffx"


def test_dead_letter_reason_is_capped():
    dl = dead_letter("r" * 5000, "ingest", "mentions.raw", 0, 0, None, b"x", FAILED_AT)
    assert dl.reason == "r" * 2000
