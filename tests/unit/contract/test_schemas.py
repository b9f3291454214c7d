"""pipeline/contract/jsonschema.py and the public record contract: schemas/ in sync with the code, records round-trip."""
from __future__ import annotations

import json

import msgspec
import pytest

from pipeline.codec import decode, encode
from pipeline.contract.records import (SCHEMA_VERSION, Alert, AlertAction, ComplaintInfo, Customer, CustomerContext,
                              DeadLetter, EnrichedMention, Identity, IdentityRef, PriorComplaints, RawMention)
from pipeline.contract.jsonschema import RECORDS, SCHEMA_DIR, check_schemas, schema_documents, write_schemas
from pipeline.domain.sentiment import Sentiment

FULL_RAW = dict(id="1790000000000000001", channel="twitter", author="@BobSmith", text="@acme my order is late again 😠",
                created_at="2024-05-01T12:00:00.000Z", brand="acme", url="https://twitter.com/bob/status/1",
                lang="en", author_name="Bob Smith", author_followers=1234, author_email="bob@example.com",
                in_reply_to="1789999999999999999", metadata={"likes": 3, "retweets": 1, "tags": ["a", "b"],
                                                            "nested": {"x": None, "y": 1.5}})


def _definition(text: str) -> dict:
    doc = json.loads(text)
    return doc["$defs"][doc["$ref"].rsplit("/", 1)[-1]]


# --- files in sync ---------------------------------------------------------------------------------------------------

def test_schema_files_match_code():
    assert check_schemas() == [], "run `socialpulse schemas --write` and commit schemas/"


def test_every_record_has_a_file():
    names = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))
    assert names == sorted(f"{n}.v{SCHEMA_VERSION}.json" for n in RECORDS)


def test_changed_schema_is_detected(tmp_path):
    written = write_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(schema_documents())
    assert check_schemas(tmp_path) == []
    target = tmp_path / f"alert.v{SCHEMA_VERSION}.json"
    doc = json.loads(target.read_text())
    doc["$defs"]["Alert"]["required"].remove("severity")
    target.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    assert check_schemas(tmp_path) == [f"alert.v{SCHEMA_VERSION}.json"]


def test_missing_schema_is_detected(tmp_path):
    write_schemas(tmp_path)
    (tmp_path / f"raw_mention.v{SCHEMA_VERSION}.json").unlink()
    (tmp_path / f"customer.v{SCHEMA_VERSION}.json").write_text("{}\n")
    assert sorted(check_schemas(tmp_path)) == [f"customer.v{SCHEMA_VERSION}.json",
                                               f"raw_mention.v{SCHEMA_VERSION}.json"]


def test_schema_document_ids():
    for fname, text in schema_documents().items():
        doc = json.loads(text)
        name = fname.split(".")[0]
        assert doc["$id"] == f"https://socialpulse.dev/schemas/v{SCHEMA_VERSION}/{name}.json"
        assert doc["$comment"].endswith(f"schema_version {SCHEMA_VERSION}.")
        assert text.endswith("}\n")


# --- the contract of ARCHITECTURE.md ---------------------------------------------------------------------------------

def test_raw_mention_contract():
    d = _definition(schema_documents()[f"raw_mention.v{SCHEMA_VERSION}.json"])
    assert d["required"] == ["id", "channel", "author", "text"]
    assert set(d["properties"]) == {"id", "channel", "author", "text", "created_at", "brand", "url", "lang",
                                    "author_name", "author_followers", "author_email", "in_reply_to", "metadata"}


def test_enriched_mention_contract():
    d = _definition(schema_documents()[f"enriched_mention.v{SCHEMA_VERSION}.json"])
    raw = _definition(schema_documents()[f"raw_mention.v{SCHEMA_VERSION}.json"])
    assert set(raw["properties"]) <= set(d["properties"])
    for name in ("mention_id", "sentiment", "customer_id", "is_prospect", "customer", "complaint", "processed_at",
                 "schema_version"):
        assert name in d["properties"], name


def test_alert_contract():
    d = _definition(schema_documents()[f"alert.v{SCHEMA_VERSION}.json"])
    for name in ("alert_id", "type", "severity", "reasons", "mention_id", "customer_id", "brand", "channel", "text",
                 "sentiment", "prior_complaints", "channels_complained_on", "created_at"):
        assert name in d["required"], name


# --- round trips -----------------------------------------------------------------------------------------------------

def test_raw_mention_with_every_field_round_trips():
    m = RawMention(**FULL_RAW)
    data = encode(m)
    assert json.loads(data) == FULL_RAW
    back = decode(data, RawMention)
    assert back == m
    assert encode(back) == data


def test_raw_mention_minimal_omits_defaults():
    m = RawMention(id="9", channel="email", author="bob@example.com", text="hi")
    assert json.loads(encode(m)) == {"id": "9", "channel": "email", "author": "bob@example.com", "text": "hi"}
    assert decode(encode(m), RawMention) == m


def test_raw_mention_from_producer_json_text():
    assert decode(json.dumps(FULL_RAW), RawMention) == RawMention(**FULL_RAW)


def test_enriched_mention_and_alert_round_trip():
    sentiment = Sentiment(compound=-0.4767, pos=0.0, neu=0.6, neg=0.4, label="negative")
    ctx = CustomerContext(tier="gold", lifetime_value=12000.0, influence=0.5)
    fields = {k: v for k, v in FULL_RAW.items() if k != "created_at"}
    em = EnrichedMention(mention_id="twitter:1790000000000000001", created_at="2024-05-01T12:00:00.000Z",
                         sentiment=sentiment, customer_id="C42", is_prospect=False, customer=ctx,
                         complaint=ComplaintInfo(is_complaint=True, score=0.91, cues=["late", "again"]),
                         processed_at="2024-05-01T12:00:01.000Z", **fields)
    assert decode(encode(em), EnrichedMention) == em
    assert json.loads(encode(em))["schema_version"] == SCHEMA_VERSION
    alert = Alert(alert_id="complaint:0123456789abcdef0123", type="vip_complaint", severity="high",
                  reasons=["Complaint on twitter", "VIP: gold tier"], mention_id=em.mention_id, customer_id="C42",
                  brand="acme", channel="twitter", text=em.text, sentiment=sentiment,
                  prior_complaints=PriorComplaints(count=1, window_days=30),
                  channels_complained_on=["facebook", "twitter"], created_at="2024-05-01T12:00:01.000Z",
                  customer=ctx, complaint_score=0.91)
    assert decode(encode(alert), Alert) == alert


def test_other_records_round_trip():
    c = Customer(customer_id="C42", name="Bob", emails=["bob@example.com"], tier="gold", lifetime_value=12000.0,
                 identities=[IdentityRef(channel="twitter", handle="bobsmith")], followers=1234)
    i = Identity(key="twitter:bobsmith", customer_id="C42", tier="gold", lifetime_value=12000.0, followers=1234,
                 name="Bob", updated_at="2024-05-01T12:00:00.000Z")
    a = AlertAction(alert_id="complaint:0123456789abcdef0123", action="assign", by="ann", assignee="joe", note="vip",
                    at="2024-05-01T12:00:00.000Z")
    d = DeadLetter(reason="invalid JSON", stage="ingest", topic="mentions.raw", partition=0, offset=1, key=None,
                   value="{", value_encoding="utf-8", failed_at="2024-05-01T12:00:00.000Z")
    for record in (c, i, a, d):
        assert decode(encode(record), type(record)) == record


@pytest.mark.parametrize("change", [
    {"channel": "Twitter"}, {"author": ""}, {"author_followers": -1}, {"lang": "x" * 17}, {"id": ""},
])
def test_invalid_raw_mentions_are_rejected_by_decode(change):
    with pytest.raises(msgspec.ValidationError):
        decode(json.dumps({**FULL_RAW, **change}), RawMention)


def test_alert_action_pattern():
    with pytest.raises(msgspec.ValidationError):
        decode(b'{"alert_id": "a", "action": "delete"}', AlertAction)
