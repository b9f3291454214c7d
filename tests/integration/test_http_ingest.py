"""POST /api/mentions against the running stack (real Kafka, ClickHouse and worker; the dashboard served
in-process): the accepted mentions of a mixed NDJSON body are queryable in ClickHouse, its rejects are on
mentions.deadletter, a complaint posted over HTTP reaches the live page's SSE stream as an `alert` event, and the
dashboard token does not open the endpoint."""
from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from pipeline.contract import topics
from pipeline.domain.escalation import alert_id as make_alert_id
from pipeline.domain.mention import to_iso

from .conftest import consume_matching, end_offsets, wait_for_rows
from .dashboard_thread import DashboardThread, sse_events

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dashboard(running_stack):
    token, ingest = "dash-" + uuid.uuid4().hex, "ingest-" + uuid.uuid4().hex
    d = DashboardThread(dataclasses.replace(running_stack.s, dashboard_token=token, ingest_token=ingest), token)
    d.ingest_token = ingest
    d.start()
    yield d
    d.stop()


def post(dashboard: DashboardThread, body: bytes, token: str, content_type: str = "application/x-ndjson"
         ) -> tuple[int, dict]:
    req = urllib.request.Request(dashboard.url + "api/mentions", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def mention(brand: str, text: str, *, channel: str = "twitter", author: str | None = None) -> dict:
    return {"id": uuid.uuid4().hex, "channel": channel, "author": author or f"fan_{uuid.uuid4().hex[:6]}",
            "text": text, "brand": brand, "created_at": to_iso(datetime.now(timezone.utc))}


def test_a_mixed_ndjson_body_lands_in_clickhouse_and_the_dead_letter_topic(s, dashboard, brand):
    good = [mention(brand, t) for t in ("Flying out tomorrow morning", "Loved the crew today, thank you!",
                                        "Which terminal is the evening flight from?")]
    malformed = b'{"id": "broken-' + brand.encode() + b'", "channel": "twitter", "text":'
    missing = json.dumps({"id": uuid.uuid4().hex, "channel": "twitter", "author": "someone", "brand": brand}).encode()
    lines = [json.dumps(good[0]).encode(), json.dumps(good[1]).encode(), malformed, b"",
             missing, json.dumps(good[2]).encode()]
    start = end_offsets(s, topics.DEADLETTER)

    status, reply = post(dashboard, b"\n".join(lines) + b"\n", dashboard.ingest_token)

    assert status == 202, reply
    assert reply["accepted"] == 3
    assert [r["line"] for r in reply["rejected"]] == [3, 5]
    assert reply["rejected"][0]["reason"].startswith("invalid JSON")
    assert "text" in reply["rejected"][1]["reason"]
    expected = sorted((f"twitter:{d['id']}", d["text"]) for d in good)
    rows = wait_for_rows(s, "SELECT mention_id, text FROM mentions FINAL WHERE brand = %(b)s ORDER BY mention_id",
                         {"b": brand}, expected, timeout=90)
    assert rows == expected

    letters = consume_matching(s, topics.DEADLETTER, lambda k, v: v is not None and brand.encode() in v, 2,
                               start=start)
    found = sorted((json.loads(r.value) for r in letters), key=lambda d: d["offset"])
    assert [(d["stage"], d["topic"], d["offset"]) for d in found] == [("http", "http", 3), ("http", "http", 5)]
    assert found[0]["value"] == malformed.decode() and found[1]["value"] == missing.decode()
    assert [d["reason"] for d in found] == [r["reason"] for r in reply["rejected"]]


def test_a_complaint_posted_over_http_appears_on_the_live_page(s, dashboard, brand):
    # On the support channel: addressed to the brand by construction (like test_dashboard_browser's complaint).
    complaint = mention(brand, "@aerolux cancelled my flight and lost my bag, I want a refund now!",
                        channel="support", author=f"traveller_{uuid.uuid4().hex[:6]}")
    expected_id = make_alert_id("complaint", f"support:{complaint['id']}")
    events = sse_events(dashboard.port, dashboard.token, time.monotonic() + 120)
    name, snapshot = next(events)
    assert name == "snapshot" and snapshot["live"] is True  # subscribed: what is produced from now on arrives

    status, reply = post(dashboard, json.dumps(complaint).encode(), dashboard.ingest_token, "application/json")
    assert (status, reply) == (202, {"accepted": 1, "rejected": []})

    alert = next((data for name, data in events if name == "alert" and data["alert_id"] == expected_id), None)
    events.close()
    assert alert is not None, "the complaint's alert never reached /api/stream"
    assert alert["brand"] == brand and alert["channel"] == "support"
    assert alert["mention_id"] == f"support:{complaint['id']}" and alert["text"] == complaint["text"]


def test_the_dashboard_token_does_not_open_the_endpoint(s, dashboard, brand):
    body = json.dumps(mention(brand, "On board now")).encode()
    for token in (dashboard.token, "not-a-token"):
        status, reply = post(dashboard, body, token, "application/json")
        assert status == 401 and "ingest token" in reply["error"]
    # nothing of it was produced: the brand never shows up
    time.sleep(3)
    assert wait_for_rows(s, "SELECT count() FROM mentions WHERE brand = %(b)s", {"b": brand}, [(0,)],
                         timeout=1) == [(0,)]
