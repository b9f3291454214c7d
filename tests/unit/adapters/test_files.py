"""Input files (pipeline/adapters/files.py), CRM CSV rows (customers.customer_from_csv), FileSummary and replay keys."""
from __future__ import annotations

import gzip
import json

import msgspec
import pytest

from pipeline.adapters.files import count_rows, is_csv, iter_rows
from pipeline.contract.records import Customer, IdentityRef
from pipeline.ops.customers import customer_from_csv
from pipeline.ops.replay import _csv_to_json, message_key
from pipeline.ops.reporting import MAX_REPORTED, FileSummary

JSONL = (
    b'{"id": "1", "channel": "twitter", "author": "@Bob", "text": "one"}\n'
    b"\n"
    b"   \n"
    b'{"id": "2", "channel": "facebook", "author": "ann", "text": "two"}\r\n'
    b"not json\n"
    b'{"id": "3", "channel": "twitter", "author": "x", "text": "caf\xc3\xa9"}'  # no trailing newline
)
EXPECTED_JSONL = [
    (1, b'{"id": "1", "channel": "twitter", "author": "@Bob", "text": "one"}'),
    (4, b'{"id": "2", "channel": "facebook", "author": "ann", "text": "two"}'),
    (5, b"not json"),
    (6, b'{"id": "3", "channel": "twitter", "author": "x", "text": "caf\xc3\xa9"}'),
]


# --- iter_rows -------------------------------------------------------------------------------------------------------

def test_iter_rows_jsonl(tmp_path):
    path = tmp_path / "mentions.jsonl"
    path.write_bytes(JSONL)
    assert list(iter_rows(path)) == EXPECTED_JSONL
    assert count_rows(path) == 4


def test_iter_rows_jsonl_gz(tmp_path):
    path = tmp_path / "mentions.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(JSONL)
    assert list(iter_rows(path)) == EXPECTED_JSONL
    assert count_rows(path) == 4


def test_iter_rows_keeps_invalid_utf8_bytes(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "\xff\xfe"}\n\xc3(\n')
    assert list(iter_rows(path)) == [(1, b'{"text": "\xff\xfe"}'), (2, b"\xc3(")]


def test_iter_rows_csv(tmp_path):
    path = tmp_path / "mentions.csv"
    path.write_text("id,channel,author,text,author_followers\n"
                    "1,twitter,@Bob,\"hello, world\",12\n"
                    "\n"
                    "2,facebook,ann,plain,\n", encoding="utf-8")
    rows = list(iter_rows(path))
    assert rows == [
        (2, {"id": "1", "channel": "twitter", "author": "@Bob", "text": "hello, world", "author_followers": "12"}),
        (4, {"id": "2", "channel": "facebook", "author": "ann", "text": "plain", "author_followers": ""}),
    ]
    assert count_rows(path) == 2


def test_iter_rows_csv_gz(tmp_path):
    path = tmp_path / "customers.CSV.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write("customer_id,name\r\nC1,Bob\r\n\r\nC2,Ann\r\n")
    assert list(iter_rows(path)) == [(2, {"customer_id": "C1", "name": "Bob"}),
                                     (4, {"customer_id": "C2", "name": "Ann"})]


def test_iter_rows_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty CSV"):
        list(iter_rows(path))


def test_is_csv(tmp_path):
    assert is_csv(tmp_path / "a.csv")
    assert is_csv(tmp_path / "a.CSV.gz")
    assert not is_csv(tmp_path / "a.jsonl")
    assert not is_csv(tmp_path / "a.jsonl.gz")
    assert not is_csv(tmp_path / "csv.jsonl")


# --- customer_from_csv -----------------------------------------------------------------------------------------------

def test_customer_from_csv_full():
    c = customer_from_csv({"customer_id": " C42 ", "name": "Bob Smith", "emails": "bob@example.com; b.smith@work.com ;",
                           "tier": " Gold ", "lifetime_value": "12500.5",
                           "identities": "twitter:@Bob;instagram:bob", "followers": "1200"})
    assert c == Customer(customer_id="C42", name="Bob Smith", emails=["bob@example.com", "b.smith@work.com"],
                         tier="Gold", lifetime_value=12500.5,
                         identities=[IdentityRef(channel="twitter", handle="@Bob"),
                                     IdentityRef(channel="instagram", handle="bob")],
                         followers=1200)


def test_customer_from_csv_minimal_defaults():
    c = customer_from_csv({"customer_id": "C1", "name": "", "emails": "", "tier": "", "lifetime_value": "",
                           "identities": "", "followers": ""})
    assert c == Customer(customer_id="C1")
    assert (c.tier, c.lifetime_value, c.emails, c.identities, c.followers) == ("standard", 0.0, [], [], None)
    assert customer_from_csv({"customer_id": "C1"}) == Customer(customer_id="C1")


def test_customer_from_csv_identity_handle_keeps_colons():
    c = customer_from_csv({"customer_id": "C1", "identities": " reviews : a:b "})
    assert c.identities == [IdentityRef(channel="reviews", handle=" a:b")]  # normalised later by identity.py


def test_customer_from_csv_bad_identity():
    with pytest.raises(ValueError, match="identity 'twitterbob' is not channel:handle"):
        customer_from_csv({"customer_id": "C1", "identities": "twitter:bob; twitterbob"})


@pytest.mark.parametrize("row", [
    {"customer_id": ""},
    {"customer_id": "C1", "identities": "Twitter:bob"},
    {"customer_id": "C1", "identities": "twitter:"},
    {"customer_id": "C1", "lifetime_value": "-5"},
])
def test_customer_from_csv_invalid_values(row):
    with pytest.raises(msgspec.ValidationError):
        customer_from_csv(row)


@pytest.mark.parametrize("row", [
    {"customer_id": "C1", "lifetime_value": "lots"},
    {"customer_id": "C1", "followers": "1.5k"},
])
def test_customer_from_csv_bad_numbers(row):
    with pytest.raises(ValueError):
        customer_from_csv(row)


# --- FileSummary ------------------------------------------------------------------------------------------------------

def test_summary_render_bad_lines():
    s = FileSummary("replay x.jsonl", sent=10, seconds=2.0)
    s.report_bad(3, "invalid JSON: oops")
    s.report_bad(7, "schema: author is blank")
    assert s.render() == ("replay x.jsonl: 10 sent in 2.0s (5/s), 2 bad line(s)\n"
                          "  line 3: invalid JSON: oops\n"
                          "  line 7: schema: author is blank")


def test_summary_render_caps_reported_lines():
    s = FileSummary("customers c.csv", sent=100, extra={"customers": 70})
    for n in range(1, 26):
        s.report_bad(n * 2, f"bad {n}")
    assert s.bad_count == 25
    assert len(s.bad) == MAX_REPORTED == 20
    text = s.render()
    lines = text.splitlines()
    assert lines[0] == "customers c.csv: 100 sent in 0.0s (0/s), 25 bad line(s)"
    assert lines[1] == "  customers: 70"
    assert "  line 2: bad 1" in lines
    assert "  line 40: bad 20" in lines
    assert "  line 42: bad 21" not in lines
    assert lines[-1] == "  … and 5 more"


def test_summary_render_exactly_max_has_no_more_line():
    s = FileSummary("x")
    for n in range(MAX_REPORTED):
        s.report_bad(n, "r")
    assert "more" not in s.render()


def test_summary_clean():
    assert FileSummary("replay y", sent=3, seconds=1.0).render() == "replay y: 3 sent in 1.0s (3/s), 0 bad line(s)"


# --- replay keys -------------------------------------------------------------------------------------------------------

def test_message_key_valid_mention():
    value = json.dumps({"id": "1", "channel": "twitter", "author": "@Bob", "text": "hi"}).encode()
    assert message_key(value) == (b"twitter:bob", None)


def test_message_key_email_author():
    value = json.dumps({"id": "1", "channel": "support", "author": "Bob@Example.com", "text": "hi"}).encode()
    assert message_key(value) == (b"email:bob@example.com", None)


def test_message_key_invalid_json():
    key, reason = message_key(b"{not json")
    assert key is None
    assert reason == "JSON is malformed: object keys must be strings (byte 1)"
    key, reason = message_key(b'{"id": "1", "channel": "twitter"')
    assert key is None
    assert reason == "Input data was truncated"


def test_message_key_schema_error():
    key, reason = message_key(b'{"id": "1", "channel": "twitter", "text": "hi"}')
    assert key is None
    assert reason == "Object missing required field `author`"


def test_csv_row_to_json():
    row = {"id": "1", "channel": "twitter", "author": "@Bob", "text": "hi", "author_followers": "12", "brand": "",
           "lang": None}
    assert json.loads(_csv_to_json(row)) == {"id": "1", "channel": "twitter", "author": "@Bob", "text": "hi",
                                             "author_followers": 12}
    assert json.loads(_csv_to_json({"id": "1", "author_followers": "many"}))["author_followers"] == "many"
    assert message_key(_csv_to_json(row)) == (b"twitter:bob", None)
