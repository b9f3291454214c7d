"""End to end through the real broker, the real worker and the real ClickHouse server."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.codec import decode, encode
from pipeline.contract import topics
from pipeline.contract.records import Alert, DeadLetter, EnrichedMention
from pipeline.domain.identity import author_key, prospect_id
from pipeline.domain.sentiment import score_sentiment

from .conftest import consume_matching, end_offsets, produce, wait_for_rows

pytestmark = pytest.mark.integration


def mention(brand: str, n: int, text: str, *, channel="twitter", author="someone", **extra) -> dict:
    return {"id": f"{brand}-{n}", "channel": channel, "author": author, "text": text, "brand": brand,
            "created_at": f"2026-11-20T10:{n % 60:02d}:00Z", **extra}


def send_mentions(s, docs: list[dict]) -> None:
    produce(s, topics.RAW, [(author_key(d["channel"], d["author"]).encode(), encode(d)) for d in docs])


def test_clickhouse_answers_select_version(s):
    c = client(s, database=False)
    assert c.execute("SELECT version()")[0][0].count(".") >= 2


def test_replayed_mentions_land_in_clickhouse_with_exact_sentiment(s, brand, tmp_path):
    from pipeline.ops.drain import wait_drained
    from pipeline.ops.replay import replay_file

    texts = ["I love the new lounge, great service!", "My flight was delayed 5 hours and nobody helped",
             "Is the app down? I can't check in :(", "ok", "Thanks @aerolux for losing my bag again 😡"]
    docs = [mention(brand, i, t, author=f"user{i}") for i, t in enumerate(texts)]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    summary = replay_file(s, path, progress=False)
    assert summary.sent == 5 and summary.bad_count == 0
    assert wait_drained(s, timeout=60) == {}
    rows = wait_for_rows(s, "SELECT source_id, text, sentiment_compound, sentiment_pos, sentiment_neu, sentiment_neg, "
                            "sentiment_label, is_prospect FROM mentions FINAL WHERE brand = %(b)s ORDER BY source_id",
                         {"b": brand}, None, timeout=5)
    assert len(rows) == 5
    for (source_id, text, compound, pos, neu, neg, label, is_prospect), d in zip(rows, docs):
        expected = score_sentiment(d["text"])
        assert source_id == d["id"] and text == d["text"]
        assert compound == pytest.approx(expected.compound, abs=1e-6)
        assert (pos, neu, neg) == pytest.approx((expected.pos, expected.neu, expected.neg), abs=1e-6)
        assert label == expected.label and is_prospect is True


def _probe(s, doc: dict) -> EnrichedMention | None:
    """Send one mention and return its enriched record (None if it did not come within 10 s). Reads only what
    follows the send: the topic holds every earlier test's mentions."""
    start = end_offsets(s, topics.ENRICHED)
    send_mentions(s, [doc])
    found = consume_matching(s, topics.ENRICHED, lambda k, v: doc["id"].encode() in v, 1, timeout=10, start=start)
    return decode(found[0].value, EnrichedMention) if found else None


def _wait_identity(s, brand: str, author: str, channel: str, customer_id: str, timeout: float = 60.0) -> None:
    """Probe until the worker resolves `author` to `customer_id` (its identity table caught up)."""
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        n += 1
        probe = mention(brand + "probe", n, "just checking in", channel=channel, author=author)
        probe["id"] = f"probe-{uuid.uuid4().hex}"
        got = _probe(s, probe)
        if got is not None and got.customer_id == customer_id:
            return
    raise AssertionError(f"identity of {author} never resolved to {customer_id}")


def test_scripted_story_customer_across_channels(s, brand, tmp_path):
    from pipeline.ops.customers import erase_customer, load_customers

    # Everything this story produces comes after these offsets (the topics hold every earlier test's records).
    start = {t: end_offsets(s, t) for t in (topics.ENRICHED, topics.ALERTS, topics.DEADLETTER)}
    cid = "C-" + uuid.uuid4().hex[:8]
    handle, email = f"Story{brand}", f"{brand}@example.com"
    crm = tmp_path / "crm.jsonl"
    crm.write_text(json.dumps({"customer_id": cid, "name": "Ann Example", "emails": [email.upper()], "tier": "gold",
                               "lifetime_value": 1200, "identities": [{"channel": "twitter", "handle": "@" + handle}],
                               "followers": 5000}) + "\n")
    assert load_customers(s, crm, progress=False).sent == 2
    _wait_identity(s, brand, handle.lower(), "twitter", cid)

    # 1. complains on twitter (handle in another case, with @) → complaint alert, customer attached
    tw = mention(brand, 1, "@aerolux my flight was cancelled and nobody answers, I want a refund!",
                 author="@" + handle.upper())
    # 2. then again by e-mail → cross-channel complaint with the history
    em = mention(brand, 2, "Still no refund for my cancelled flight. This is the third time I'm asking.",
                 channel="email", author=f" {email} ", created_at="2026-11-21T09:00:00Z")
    # 3. an unknown author → prospect
    un = mention(brand, 3, "Nice seats on the new plane", author="stranger_" + brand)
    # 4. a malformed message → dead-letter with a reason
    bad_id = f"bad-{brand}"
    send_mentions(s, [tw])
    consume_matching(s, topics.ALERTS, lambda k, v: f"twitter:{brand}-1".encode() in v, 1, timeout=30,
                     start=start[topics.ALERTS])
    send_mentions(s, [em, un])
    produce(s, topics.RAW, [(b"twitter:x", f'{{"id": "{bad_id}", "channel": "twitter"'.encode())])

    enriched = {m.id: m for m in (decode(r.value, EnrichedMention) for r in consume_matching(
        s, topics.ENRICHED, lambda k, v: brand.encode() in v and b"probe" not in v, 3, start=start[topics.ENRICHED]))}
    assert set(enriched) == {f"{brand}-1", f"{brand}-2", f"{brand}-3"}
    assert enriched[f"{brand}-1"].customer_id == cid and enriched[f"{brand}-1"].customer.tier == "gold"
    assert enriched[f"{brand}-2"].customer_id == cid and not enriched[f"{brand}-2"].is_prospect
    assert enriched[f"{brand}-3"].is_prospect
    assert enriched[f"{brand}-3"].customer_id == prospect_id(f"twitter:stranger_{brand}")
    assert enriched[f"{brand}-1"].complaint.is_complaint and enriched[f"{brand}-2"].complaint.is_complaint

    alerts = {a.mention_id: a for a in (decode(r.value, Alert) for r in consume_matching(
        s, topics.ALERTS, lambda k, v: brand.encode() in v, 2, start=start[topics.ALERTS]))}
    assert set(alerts) == {f"twitter:{brand}-1", f"email:{brand}-2"}
    second = alerts[f"email:{brand}-2"]
    assert second.type == "vip_complaint" or second.type == "cross_channel_complaint"
    assert second.prior_complaints.count == 1
    assert second.channels_complained_on == ["email", "twitter"]
    assert any("twitter" in r for r in second.reasons)

    dead = [decode(r.value, DeadLetter) for r in consume_matching(
        s, topics.DEADLETTER, lambda k, v: bad_id.encode() in (v or b""), 1, start=start[topics.DEADLETTER])]
    assert len(dead) == 1 and dead[0].stage == "ingest" and "JSON" in dead[0].reason

    # 5. replaying the same input yields no new alert
    send_mentions(s, [tw, em, un])
    again = consume_matching(s, topics.ALERTS, lambda k, v: brand.encode() in v, 3, timeout=8,
                             start=start[topics.ALERTS])
    assert len(again) == 2

    # 6. an erased customer: the next mention from the handle is a prospect, and ClickHouse forgot them
    summary = erase_customer(s, cid)
    assert summary.tombstones == 2
    later = mention(brand, 4, "hello again", author=handle)
    deadline = time.monotonic() + 30
    while True:
        later["id"] = f"{brand}-late-{uuid.uuid4().hex[:6]}"
        got = _probe(s, later)
        if got is not None and got.is_prospect:
            break
        assert time.monotonic() < deadline, "erased identity still resolves"
    rows = wait_for_rows(s, "SELECT count() FROM identities FINAL WHERE customer_id = %(c)s", {"c": cid}, [(0,)])
    assert rows == [(0,)]
