"""Hostile input through the real worker: every invalid message is dead-lettered exactly once with a reason and its
original bytes, every valid one lands in ClickHouse verbatim, and the worker never dies. The file commands
(`replay`, `customers load`) report bad lines by number and go on."""
from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from pipeline.codec import decode, encode
from pipeline.contract import topics
from pipeline.contract.records import MAX_TEXT_LEN, DeadLetter
from pipeline.domain.mention import MAX_RAW_BYTES, normalise_text

from .conftest import consume_matching, wait_for_rows

pytestmark = pytest.mark.integration

SQL_INJECTION = "'; DROP TABLE mentions; --"
HTML = "<script>alert('xss')</script><img src=x onerror=alert(1)>"


def produce_large(s, items: list[tuple[bytes, bytes | None]]) -> None:
    """Like conftest.produce, with a producer that accepts messages above 1 MB."""
    from kafka import KafkaProducer

    from pipeline.adapters.kafka.config import kafka_python_config

    producer = KafkaProducer(**kafka_python_config(s), acks="all", max_request_size=8 << 20)
    try:
        futures = [producer.send(topics.RAW, key=k, value=v) for k, v in items]
        producer.flush()
        for f in futures:
            f.get(timeout=30)  # raises if the broker refused a message
    finally:
        producer.close()


def _mention(brand: str, marker: str, text: str = "hello", **extra) -> dict:
    return {"id": marker, "channel": "twitter", "author": "someone", "text": f"{text} {marker}", "brand": brand,
            "created_at": "2026-11-20T10:00:00Z", **extra}


def _invalid_messages(brand: str) -> dict[str, bytes | None]:
    """marker → raw value. The marker is also the Kafka key (the dead letter keeps the key)."""
    def m(marker: str, **changes) -> bytes:
        doc = _mention(brand, marker)
        doc.update(changes)
        return encode({k: v for k, v in doc.items() if v is not _DROP})

    msgs: dict[str, bytes | None] = {}

    def add(name: str, build) -> None:
        marker = f"{brand}-bad-{name}"
        msgs[marker] = build(marker)

    add("notjson", lambda k: f"this is not json {k}".encode())
    add("truncated", lambda k: m(k)[:-5])
    add("array", lambda k: json.dumps([k, 1, 2]).encode())
    add("string", lambda k: json.dumps(k).encode())
    add("number", lambda k: b"12345")
    add("nullliteral", lambda k: b"null")
    add("empty", lambda k: b"")
    add("tombstone", lambda k: None)
    add("id-int", lambda k: m(k, id=12345, text=k))
    add("channel-int", lambda k: m(k, channel=7))
    add("text-list", lambda k: m(k, text=[k]))
    add("author-null", lambda k: m(k, author=None))
    add("followers-str", lambda k: m(k, author_followers="many"))
    add("followers-neg", lambda k: m(k, author_followers=-5))
    add("metadata-list", lambda k: m(k, metadata=[k]))
    add("created-bad", lambda k: m(k, created_at="yesterday"))
    add("created-int", lambda k: m(k, created_at=1700000000))
    add("brand-dict", lambda k: m(k, brand={"b": brand}))
    add("missing-id", lambda k: m(k, id=_DROP))
    add("missing-channel", lambda k: m(k, channel=_DROP))
    add("missing-author", lambda k: m(k, author=_DROP))
    add("missing-text", lambda k: m(k, text=_DROP, url=k))
    add("channel-upper", lambda k: m(k, channel="Twitter!"))
    add("huge-id", lambda k: m(k, id=k + "9" * 5000))
    add("huge-int-id", lambda k: m(k, id=10**40, text=k))
    add("blank-author", lambda k: m(k, author=" \u200b\t "))
    add("text-1mb", lambda k: m(k, text=k + " " + "a" * 1_000_000))  # valid JSON, > MAX_TEXT_LEN characters
    add("invalid-utf8", lambda k: m(k, text="XXBADXX").replace(b"XXBADXX", b"\xff\xfe\xc3("))
    add("deep-metadata", lambda k: m(k)[:-1] + b',"metadata":{"d":' + b"[" * 10_000 + b"]" * 10_000 + b"}}")
    add("lang-long", lambda k: m(k, lang="x" * 17))
    add("too-large", lambda k: m(k, text=k + " " + "b" * (MAX_RAW_BYTES + 10)))
    return msgs


_DROP = object()


def test_invalid_messages_are_dead_lettered_once_and_valid_ones_stored(running_stack, s, brand):
    pid_before = running_stack.worker.pid()
    assert pid_before is not None

    invalid = _invalid_messages(brand)
    assert len(invalid) >= 30
    assert len(invalid[f"{brand}-bad-text-1mb"]) < MAX_RAW_BYTES
    assert len(decode(invalid[f"{brand}-bad-text-1mb"], dict)["text"]) > MAX_TEXT_LEN

    valid_docs = [
        _mention(brand, f"{brand}-ok-plain", "I love the new lounge"),
        _mention(brand, f"{brand}-ok-sql", SQL_INJECTION),
        _mention(brand, f"{brand}-ok-html", HTML),
        _mention(brand, f"{brand}-ok-ctrl", "bad\x00 \x07service\x1b[31m\u202e \u200bhere\r\n\tnow"),
        _mention(brand, f"{brand}-ok-emoji", "😡" * 5000),
        _mention(brand, f"{brand}-ok-nested", "nested ok", metadata={"d": json.loads("[" * 50 + "]" * 50),
                                                                     "sql": SQL_INJECTION, "html": HTML}),
        _mention(brand, f"{brand}-ok-sqlauthor", "quoted author", author="o'brien\"; DROP TABLE x; --"),
        _mention(brand, f"{brand}-ok-maxtext", "x " * ((MAX_TEXT_LEN - 100) // 2)),
    ]
    items = [(marker.encode(), value) for marker, value in invalid.items()]
    items += [(d["id"].encode(), encode(d)) for d in valid_docs]
    produce_large(s, items)

    prefix = f"{brand}-bad-".encode()
    dead = consume_matching(s, topics.DEADLETTER, lambda k, v: k is not None and k.startswith(prefix),
                            len(invalid), timeout=120)
    by_key: dict[str, list] = {}
    for r in dead:
        by_key.setdefault(r.key.decode(), []).append(r)
    assert set(by_key) == set(invalid), f"missing: {set(invalid) - set(by_key)}"
    assert {k: len(v) for k, v in by_key.items() if len(v) != 1} == {}, "dead-lettered more than once"
    for marker, (record,) in by_key.items():
        dl = decode(record.value, DeadLetter)
        assert dl.reason.strip() and dl.stage == "ingest" and dl.topic == topics.RAW, (marker, dl.reason)
        original = invalid[marker]
        if original is None:
            assert dl.value is None and "null" in dl.reason
        elif dl.value_encoding == "base64":
            assert base64.b64decode(dl.value) == original
        else:
            assert dl.value_encoding == "utf-8" and dl.value.encode("utf-8") == original, marker
    reasons = {m.removeprefix(f"{brand}-bad-"): decode(by_key[m][0].value, DeadLetter).reason for m in by_key}
    assert decode(by_key[f"{brand}-bad-invalid-utf8"][0].value, DeadLetter).value_encoding == "base64"
    assert "UTF-8" in reasons["invalid-utf8"]
    assert "too large" in reasons["too-large"]
    assert "JSON" in reasons["notjson"] and "JSON" in reasons["deep-metadata"]
    assert reasons["text-1mb"].startswith("schema") and "text" in reasons["text-1mb"]
    assert "id" in reasons["huge-id"] and "author" in reasons["blank-author"]

    rows = wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand},
                         [(len(valid_docs),)], timeout=90)
    assert rows == [(len(valid_docs),)]
    stored = dict(wait_for_rows(s, "SELECT source_id, text FROM mentions FINAL WHERE brand = %(b)s", {"b": brand},
                                None, timeout=0))
    for d in valid_docs:
        assert stored[d["id"]] == normalise_text(d["text"]), d["id"]
    assert stored[f"{brand}-ok-sql"] == f"{SQL_INJECTION} {brand}-ok-sql"  # verbatim
    assert stored[f"{brand}-ok-html"] == f"{HTML} {brand}-ok-html"
    assert stored[f"{brand}-ok-ctrl"] == f"bad service[31m here now {brand}-ok-ctrl"
    ((author, metadata),) = wait_for_rows(
        s, "SELECT author, metadata FROM mentions FINAL WHERE source_id = %(i)s", {"i": f"{brand}-ok-sqlauthor"},
        None, timeout=0)
    assert author == "o'brien\"; DROP TABLE x; --"
    ((metadata,),) = wait_for_rows(s, "SELECT metadata FROM mentions FINAL WHERE source_id = %(i)s",
                                   {"i": f"{brand}-ok-nested"}, None, timeout=0)
    assert json.loads(metadata)["sql"] == SQL_INJECTION and json.loads(metadata)["html"] == HTML
    # the tables the injection names are still there
    assert wait_for_rows(s, "SELECT count() > 0 FROM mentions", {}, None, timeout=0) == [(True,)]

    # Still alive *and working*: a Faust stream can crash while its process lingers (same pid, nothing consumed).
    probe = _mention(brand, f"{brand}-after", "still processing")
    produce_large(s, [(probe["id"].encode(), encode(probe))])
    rows = wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE source_id = %(i)s", {"i": probe["id"]}, [(1,)],
                         timeout=60)
    worker_log = (Path(s.data_dir) / "run" / "worker.log").read_text(errors="replace")
    assert "Crashed reason=" not in worker_log, worker_log[worker_log.find("Crashed reason="):][:2000]
    assert rows == [(1,)], "the worker stopped processing after the bad input"
    assert running_stack.worker.pid() == pid_before, "the worker restarted or died"


def test_replay_file_reports_bad_lines_and_continues(s, brand, tmp_path):
    from pipeline.ops.drain import wait_drained
    from pipeline.ops.replay import replay_file

    good = [json.dumps(_mention(brand, f"{brand}-r{i}", "replayed fine")).encode() for i in range(4)]
    lines = [
        good[0],                                                      # 1
        b'{"id": "x", "channel": "twitter"',                          # 2 invalid JSON
        good[1],                                                      # 3
        b"",                                                          # 4 blank: skipped, not reported
        json.dumps({"id": f"{brand}-nochan", "author": "a", "text": "t"}).encode(),  # 5 missing channel
        b'{"id": "u", "channel": "twitter", "author": "a", "text": "\xff\xfe"}',     # 6 invalid UTF-8
        good[2],                                                      # 7
        b'{"id":"d","channel":"twitter","author":"a","text":"t","metadata":{"m":' + b"[" * 10_000
        + b"]" * 10_000 + b"}}",                                      # 8 nested too deeply
        b"[1, 2, 3]",                                                 # 9 not an object
        good[3],                                                      # 10
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = replay_file(s, path, progress=False)
    assert [n for n, _ in summary.bad] == [2, 5, 6, 8, 9]
    assert summary.bad_count == 5 and all(reason for _, reason in summary.bad)
    assert "UTF-8" in dict(summary.bad)[6]
    assert summary.sent == 9  # bad lines are sent too: the worker dead-letters them with the reason
    assert "line 2:" in summary.render()
    assert wait_drained(s, timeout=90) == {}
    rows = wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand}, [(4,)])
    assert rows == [(4,)]


def test_customers_file_reports_bad_lines_and_loads_good_ones(s, tmp_path):
    from pipeline.ops.customers import current_identities, load_customers

    tag = uuid.uuid4().hex[:8]
    good = [{"customer_id": f"C-{tag}-{i}", "name": "Good", "emails": [f"good{i}-{tag}@example.com"],
             "identities": [{"channel": "twitter", "handle": f"@good{i}_{tag}"}]} for i in range(3)]
    lines = [
        json.dumps(good[0]).encode(),                                           # 1
        b"{not json",                                                           # 2
        json.dumps({"name": "no id", "emails": ["x@example.com"]}).encode(),    # 3 missing customer_id
        json.dumps(good[1]).encode(),                                           # 4
        json.dumps({"customer_id": f"C-{tag}-neg", "lifetime_value": -1,
                    "emails": ["n@example.com"]}).encode(),                     # 5 negative value
        json.dumps({"customer_id": f"C-{tag}-none", "emails": ["not-an-email"]}).encode(),  # 6 no valid handle
        b'{"customer_id": "deep", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",  # 7 nested too deeply
        b'{"customer_id": "\xff\xfe"}',                                         # 8 invalid UTF-8
        json.dumps({"customer_id": f"C-{tag}-badid", "identities": [{"channel": "Bad Channel!",
                                                                      "handle": "x"}]}).encode(),  # 9
        json.dumps(good[2]).encode(),                                           # 10
    ]
    path = tmp_path / "crm.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = load_customers(s, path, progress=False)
    assert [n for n, _ in summary.bad] == [2, 3, 5, 6, 7, 8, 9]
    assert all(reason for _, reason in summary.bad)
    assert summary.extra["customers"] == 3 and summary.sent == 6

    csv_path = tmp_path / "crm.csv"
    csv_path.write_text("customer_id,name,emails,tier,lifetime_value,identities,followers\n"
                        f"C-{tag}-csv1,Ann,csv1-{tag}@example.com,gold,10,twitter:@csv1_{tag},5\n"
                        f"C-{tag}-csv2,Bob,,gold,abc,twitter:@csv2_{tag},\n"          # line 3: bad value
                        f"C-{tag}-csv3,Cy,,gold,1,no-colon-here,\n"                    # line 4: bad identity
                        f",Dee,dee-{tag}@example.com,,,,\n"                             # line 5: no id
                        f"C-{tag}-csv6,Eve,,gold,1,twitter:@csv6_{tag},-3\n"           # line 6: negative followers
                        f"C-{tag}-csv7,Fay,csv7-{tag}@example.com,,,,\n")
    csv_summary = load_customers(s, csv_path, progress=False)
    assert [n for n, _ in csv_summary.bad] == [3, 4, 5, 6]
    assert csv_summary.extra["customers"] == 2 and csv_summary.sent == 3

    idents = current_identities(s)
    for g in good:
        assert idents[f"twitter:{g['identities'][0]['handle'][1:]}"].customer_id == g["customer_id"]
        assert idents[f"email:{g['emails'][0]}"].customer_id == g["customer_id"]
    assert idents[f"twitter:csv1_{tag}"].customer_id == f"C-{tag}-csv1"
    assert not any(i.customer_id.startswith(f"C-{tag}-") and i.customer_id.rsplit("-", 1)[1] in
                   ("neg", "none", "badid", "csv2", "csv3", "csv6") for i in idents.values())
