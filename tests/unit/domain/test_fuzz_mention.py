"""Property tests of the pure ingest path: `MentionProcessor.process` never raises on hostile input, turns valid
mentions into EnrichedMention and everything else into a DeadLetter that keeps the original bytes; per-message
CPU stays bounded (docs/guarantees.md, "Limits and caps")."""
from __future__ import annotations

import base64
import json
import time

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.codec import decode, encode
from pipeline.contract.records import MAX_ID_LEN, MAX_TEXT_LEN, Customer, DeadLetter, EnrichedMention
from pipeline.domain.complaints.model import ComplaintModel
from pipeline.domain.enrich import MentionProcessor, RawMessage
from pipeline.domain.mention import MAX_RAW_BYTES, normalise_text
from pipeline.ops.customers import customer_from_csv

FUZZ = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])
NOW = "2026-11-23T10:00:00.000Z"
LOOKUP = {}.get


_PROC: list[MentionProcessor] = []


def proc() -> MentionProcessor:
    # hypothesis @given tests cannot take function-scoped fixtures: one shared processor per module
    if not _PROC:
        _PROC.append(MentionProcessor(ComplaintModel.load_default()))
    return _PROC[0]


def run(value: bytes | None, key: bytes | None = b"twitter:someone"):
    msg = RawMessage(topic="mentions.raw", partition=3, offset=42, timestamp_ms=1_763_900_000_000, key=key,
                     value=value)
    return proc().process(msg, LOOKUP, NOW)


def check(value: bytes | None, out) -> None:
    """The invariants of every output."""
    assert isinstance(out, (EnrichedMention, DeadLetter)), type(out)
    if isinstance(out, DeadLetter):
        assert out.reason and out.reason.strip()
        assert out.stage in ("ingest", "score")
        assert (out.topic, out.partition, out.offset, out.failed_at) == ("mentions.raw", 3, 42, NOW)
        if value is None:
            assert out.value is None
        elif out.value_encoding == "utf-8":
            assert out.value.encode("utf-8") == value
        else:
            assert out.value_encoding == "base64"
            assert base64.b64decode(out.value) == value
        encode(out)  # the dead letter itself is serialisable
    else:
        assert out.mention_id == f"{out.channel}:{out.id}"
        assert out.text == normalise_text(out.text)  # normalised (idempotent)
        assert len(out.text) <= MAX_TEXT_LEN and 0 < len(out.id) <= MAX_ID_LEN
        assert out.created_at.endswith("Z")
        encode(out)


# --- strategies ------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)

HOSTILE_STRINGS = [
    "'; DROP TABLE mentions; --", "\" OR 1=1 --", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "{{7*7}}", "${jndi:ldap://x/a}", "\x00\x01\x02\x1b[31m", "\u202eevil\u202c", "\ufeff\u200b\u2028\u2029",
    "😡" * 500, "a\u0301" * 50, "Robert'); DROP TABLE Students;--", "%s%s%s%n", "../../etc/passwd",
    "🏳️‍🌈👨‍👩‍👧‍👦" * 100, " " * 1000, "",
]
hostile_text = st.sampled_from(HOSTILE_STRINGS) | st.text() | st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000), max_size=200)

field_values = st.one_of(hostile_text, st.integers(), st.integers(min_value=10**18, max_value=10**40), st.none(),
                         st.booleans(), st.floats(), st.lists(st.integers(), max_size=3),
                         st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
                         st.text(min_size=MAX_ID_LEN + 1, max_size=MAX_ID_LEN + 50))

valid_channel = st.from_regex(r"^[a-z][a-z0-9_]{0,31}\Z")
valid_id = st.text(min_size=1, max_size=MAX_ID_LEN).filter(lambda v: v.strip())
valid_author = st.text(min_size=1, max_size=320).filter(lambda v: normalise_text(v))
valid_mentions = st.fixed_dictionaries(
    {"id": valid_id, "channel": valid_channel, "author": valid_author, "text": hostile_text},
    optional={"created_at": st.sampled_from(["2026-11-20T10:00:00Z", "2026-11-20T10:00:00+02:00",
                                             "2026-11-20T10:00:00.123456"]),
              "brand": st.text(max_size=40), "url": st.text(max_size=40), "lang": st.text(max_size=16),
              "author_followers": st.integers(min_value=0, max_value=10**12),
              "author_email": st.sampled_from(["a@b.co", "x@y.org "]),
              "metadata": st.dictionaries(st.text(max_size=8), json_values, max_size=5)})


# --- properties --------------------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(value):
    check(value, run(value))


@FUZZ
@given(json_values)
def test_arbitrary_json_values_never_raise(doc):
    value = json.dumps(doc).encode()
    out = run(value)
    check(value, out)
    if not isinstance(doc, dict):
        assert isinstance(out, DeadLetter) and out.stage == "ingest"


@FUZZ
@given(valid_mentions)
def test_valid_mentions_are_enriched(doc):
    value = encode(doc)
    out = run(value)
    check(value, out)
    assert isinstance(out, EnrichedMention), out
    assert out.id == doc["id"] and out.channel == doc["channel"]
    assert out.mention_id == f"{doc['channel']}:{doc['id']}"
    assert out.text == normalise_text(doc["text"])
    assert out.metadata == doc.get("metadata")


@FUZZ
@given(valid_mentions, st.sampled_from(["id", "channel", "author", "text", "created_at", "author_followers",
                                        "metadata", "brand", "lang"]), field_values)
def test_wrong_types_and_values(doc, field, bad):
    doc = dict(doc)
    doc[field] = bad
    value = encode(doc)
    check(value, run(value))


@FUZZ
@given(valid_mentions, st.sets(st.sampled_from(["id", "channel", "author", "text"]), min_size=1))
def test_missing_required_fields_are_dead_lettered(doc, missing):
    doc = {k: v for k, v in doc.items() if k not in missing}
    value = encode(doc)
    out = run(value)
    check(value, out)
    assert isinstance(out, DeadLetter) and out.stage == "ingest" and "schema" in out.reason


@FUZZ
@given(valid_mentions, st.binary(min_size=1, max_size=8))
def test_invalid_utf8_is_base64_and_recoverable(doc, junk):
    text = encode(doc)
    value = text[:1] + b"\xff" + junk + text[1:]  # 0xff is never valid UTF-8
    out = run(value)
    check(value, out)
    assert isinstance(out, DeadLetter) and out.value_encoding == "base64"
    assert base64.b64decode(out.value) == value


@FUZZ
@given(valid_mentions, st.lists(st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u202e", "\ufeff",
                                                 "\u2028", "\t", "\n", "\r"]), min_size=1, max_size=20))
def test_control_characters_are_removed_from_valid_text(doc, controls):
    doc = dict(doc, text="hello " + "".join(controls) + " world")
    out = run(encode(doc))
    assert isinstance(out, EnrichedMention)
    assert out.text == "hello world"


@pytest.mark.parametrize("depth", [10, 500, 1_000, 10_000])
def test_deeply_nested_metadata(depth):
    doc = {"id": "x1", "channel": "twitter", "author": "a", "text": "hi"}
    value = encode(doc)[:-1] + b',"metadata":{"deep":' + b"[" * depth + b"]" * depth + b"}}"
    out = run(value)
    check(value, out)
    if isinstance(out, DeadLetter):  # beyond msgspec's nesting limit
        assert out.stage == "ingest" and "deep" in out.reason or "JSON" in out.reason


def test_deeply_nested_metadata_10000_levels_is_dead_lettered():
    value = (b'{"id":"x","channel":"twitter","author":"a","text":"t","metadata":{"m":' + b"[" * 10_000
             + b"]" * 10_000 + b"}}")
    out = run(value)
    check(value, out)
    assert isinstance(out, DeadLetter) and out.stage == "ingest"


@pytest.mark.parametrize("bad_id", ["9" * 400, "x" * (MAX_ID_LEN + 1), 10**30, -1, 1.5, "", "   "])
def test_huge_or_invalid_ids_are_dead_lettered(bad_id):
    value = json.dumps({"id": bad_id, "channel": "twitter", "author": "a", "text": "t"}).encode()
    out = run(value)
    check(value, out)
    assert isinstance(out, DeadLetter) and out.stage == "ingest"


@pytest.mark.parametrize("text", HOSTILE_STRINGS[:6] + ["Robert'); DROP TABLE Students;--"])
def test_injection_strings_are_kept_verbatim(text):
    out = run(encode({"id": "inj", "channel": "twitter", "author": "a", "text": text}))
    assert isinstance(out, EnrichedMention) and out.text == normalise_text(text)


@pytest.mark.parametrize("escape", [rb"\ud800", rb"\udfff", rb"\ud83d", rb"\u0000", rb"\ud83d\ude21"])
def test_json_escapes_of_lone_surrogates_never_raise(escape):
    value = b'{"id":"s","channel":"twitter","author":"a","text":"x' + escape + b'y"}'
    out = run(value)
    check(value, out)
    if isinstance(out, EnrichedMention):
        encode(out)


def test_null_and_oversized_messages():
    check(None, out := run(None))
    assert isinstance(out, DeadLetter) and "null" in out.reason
    big = b'{"id":"x","channel":"twitter","author":"a","text":"' + b"a" * MAX_RAW_BYTES + b'"}'
    check(big, out := run(big))
    assert isinstance(out, DeadLetter) and "too large" in out.reason


def test_text_over_max_len_is_dead_lettered():
    value = encode({"id": "x", "channel": "twitter", "author": "a", "text": "a" * (MAX_TEXT_LEN + 1)})
    out = run(value)
    check(value, out)
    assert isinstance(out, DeadLetter) and "text" in out.reason


def _timed(value: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        check(value, run(value))
        best = min(best, time.process_time() - t0)
    return best


# CPU seconds (best of 3) measured on the development machine, 2026-11-23:
#   1 MB text            0.0006 s  (over MAX_TEXT_LEN: rejected right after decode)
#   1 MB emoji flood     0.005 s   (idem)
#   100,000-char text    0.016 s   (max valid: VADER + complaint model see the first 1,000 characters)
#   100,000 emoji        0.016 s   (was 0.28 s, and 2.1 s for "😸" * 1000, before sentiment.prepare_text capped
#                                   VADER's emoji expansion: each emoji becomes up to 6 words, quadratic cost)
@pytest.mark.parametrize("name,text", [
    ("1 MB text", "I want a refund, my flight was cancelled! " * 25_000),
    ("1 MB emoji flood", "😡" * 262_144),
    ("max valid text", ("terrible service " * 6_000)[:MAX_TEXT_LEN]),
    ("max valid emoji", "😡🙂" * (MAX_TEXT_LEN // 2)),
    ("max valid worst emoji", "😸" * MAX_TEXT_LEN),
    ("max valid spaced emoji", "😸 " * (MAX_TEXT_LEN // 2)),
])
def test_per_message_cpu_is_bounded(name, text):
    value = encode({"id": "big", "channel": "twitter", "author": "a", "text": text})
    assert len(value) <= MAX_RAW_BYTES
    seconds = _timed(value)
    print(f"{name}: {len(value):,} bytes in {seconds:.4f} s")
    assert seconds < 0.5, f"{name} took {seconds:.3f}s"


# --- customers ---------------------------------------------------------------------------------------------------

csv_cell = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(
    ["nan", "inf", "-1", "1e400", "12abc", "twitter", "twitter:@bob;email:", ":x", "a:b;c", " ; ; ", "10" * 20,
     "gold", "x" * 400]))


@FUZZ
@given(st.fixed_dictionaries({}, optional={k: csv_cell for k in (
    "customer_id", "name", "emails", "tier", "lifetime_value", "identities", "followers")}))
def test_customer_from_csv_rejects_only_with_value_errors(row):
    try:
        c = customer_from_csv(row)
    except (ValueError, msgspec.MsgspecError):  # msgspec.ValidationError subclasses ValueError too
        return
    assert isinstance(c, Customer) and c.customer_id


@FUZZ
@given(st.one_of(st.binary(max_size=512), json_values.map(lambda v: json.dumps(v).encode()),
                 st.fixed_dictionaries({}, optional={
                     "customer_id": field_values, "name": field_values, "emails": field_values, "tier": field_values,
                     "lifetime_value": field_values, "identities": field_values,
                     "followers": field_values}).map(encode)))
def test_decode_customer_rejects_only_with_msgspec_errors(value):
    try:
        c = decode(value, Customer)
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return
    assert isinstance(c, Customer)


@pytest.mark.parametrize("depth", [100, 10_000])
def test_decode_customer_deep_nesting_is_a_msgspec_or_value_error(depth):
    value = b'{"customer_id":"c1","extra":' + b"[" * depth + b"]" * depth + b"}"
    try:
        decode(value, Customer)
    except (msgspec.MsgspecError, ValueError):
        pass
