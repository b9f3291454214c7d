"""Ops feedback on the running stack (real Kafka, ClickHouse and worker): verdicts posted to the dashboard's API
travel on alerts.actions to the worker's sink and land in ClickHouse `complaint_feedback` once, even when sent
twice (clicked twice, or the same Kafka record delivered twice); measured precision per brand; the customer page's
verdicts; `fetch_feedback` reads them back as labelled texts; the no-brands warning of /api/kpis."""
from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any, Optional

import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.contract.records import (Alert, AlertAction, ComplaintInfo, CustomerContext, EnrichedMention,
                                       PriorComplaints)
from pipeline.domain.mention import to_iso
from pipeline.domain.sentiment import Sentiment
from pipeline.settings import Settings
from pipeline.tools.complaints_feedback import fetch_feedback
from pipeline.web.status import NO_BRANDS_WARNING

from .conftest import produce, wait_for_rows
from .dashboard_thread import DashboardThread

pytestmark = pytest.mark.integration


# --- records straight to the sink's topics (no model in the way: the test is about the feedback path) -----------

def enriched(brand: str, customer_id: str, text: str, *, complaint: bool, channel: str = "twitter") -> EnrichedMention:
    sid = uuid.uuid4().hex[:12]
    now = to_iso(datetime.now(timezone.utc))
    compound = -0.7 if complaint else 0.1
    return EnrichedMention(
        mention_id=f"{channel}:{sid}", id=sid, channel=channel, author=f"@{customer_id.lower()}", text=text,
        created_at=now, sentiment=Sentiment(compound, 0.0, 0.3, 0.7, "negative" if complaint else "neutral"),
        customer_id=customer_id, is_prospect=False,
        customer=CustomerContext(tier="gold", lifetime_value=1000.0, influence=0.2),
        complaint=ComplaintInfo(is_complaint=complaint, score=0.9 if complaint else 0.1,
                                cues=["refund"] if complaint else []),
        processed_at=now, brand=brand)


def alert_of(m: EnrichedMention, *, type_: str = "complaint") -> Alert:
    return Alert(alert_id=f"{type_}:{uuid.uuid4().hex[:16]}", type=type_, severity="high", reasons=["complaint"],
                 mention_id=m.mention_id, customer_id=m.customer_id, brand=m.brand, channel=m.channel, text=m.text,
                 sentiment=m.sentiment, prior_complaints=PriorComplaints(count=0, window_days=30),
                 channels_complained_on=[m.channel], created_at=m.created_at,
                 customer=m.customer, complaint_score=m.complaint.score)


def publish(s: Settings, mentions: list[EnrichedMention], alerts: list[Alert]) -> None:
    """Mentions and alerts as the detect stage would publish them; returns once ClickHouse has all of them."""
    produce(s, topics.ENRICHED, [(m.customer_id.encode(), encode(m)) for m in mentions])
    produce(s, topics.ALERTS, [(a.customer_id.encode(), encode(a)) for a in alerts])
    ids = tuple(a.alert_id for a in alerts)
    assert wait_for_rows(s, "SELECT count() FROM alerts FINAL WHERE alert_id IN %(ids)s", {"ids": ids},
                         [(len(ids),)]) == [(len(ids),)]
    mids = tuple(m.mention_id for m in mentions)
    assert wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE mention_id IN %(ids)s", {"ids": mids},
                         [(len(mids),)]) == [(len(mids),)]


def case(brand: str) -> tuple[str, list[EnrichedMention], list[Alert]]:
    """A customer with two complaint alerts (one a false alarm), a spike, and a complaint the model missed."""
    cid = "C-fb-" + uuid.uuid4().hex[:8]
    false_alarm = enriched(brand, cid, "@brand thanks, the refund already arrived, all good", complaint=True)
    real = enriched(brand, cid, "@brand you lost my bag again and nobody answers, I want a refund", complaint=True)
    missed = enriched(brand, cid, "@brand third week waiting for the technician. Still nothing.", complaint=False)
    alerts = [alert_of(false_alarm), alert_of(real), alert_of(real, type_="spike")]
    return cid, [false_alarm, real, missed], alerts


# --- HTTP --------------------------------------------------------------------------------------------------------

def call(d: DashboardThread, method: str, path: str, body: Optional[dict] = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(d.url.rstrip("/") + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {d.token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def quoted(ref: str) -> str:
    return urllib.request.quote(ref, safe="")


FEEDBACK_SQL = """
SELECT alert_id, mention_id, verdict, `by`, customer_id, brand, channel
FROM complaint_feedback FINAL
WHERE brand = %(b)s
ORDER BY verdict, alert_id
"""


def test_verdicts_reach_clickhouse_once_and_measure_precision(s, dashboard, brand):
    cid, (false_alarm, real, missed), (a_false, a_real, spike) = case(brand)
    publish(s, [false_alarm, real, missed], [a_false, a_real, spike])

    # "Not a complaint" clicked twice, "Is a complaint" once, "Missed complaint" twice
    answers = [call(dashboard, "POST", f"/api/alerts/{quoted(a_false.alert_id)}/not_complaint", {"by": "ann"})
               for _ in range(2)]
    answers.append(call(dashboard, "POST", f"/api/alerts/{quoted(a_real.alert_id)}/complaint", {"by": "bo"}))
    answers += [call(dashboard, "POST", f"/api/mentions/{quoted(missed.mention_id)}/missed_complaint", {"by": "ann"})
                for _ in range(2)]
    assert [status for status, _ in answers] == [202] * 5, answers
    assert answers[0][1]["verdict"] == "not_complaint" and answers[-1][1]["mention_id"] == missed.mention_id

    # what does not fit is refused, and nothing is produced for it
    refused = [call(dashboard, "POST", f"/api/alerts/{quoted(spike.alert_id)}/not_complaint"),
               call(dashboard, "POST", f"/api/mentions/{quoted(real.mention_id)}/missed_complaint"),
               call(dashboard, "POST", "/api/alerts/complaint:nosuchalert/not_complaint"),
               call(dashboard, "POST", "/api/mentions/twitter:nosuchmention/missed_complaint"),
               call(dashboard, "POST", "/api/mentions/bad/missed_complaint")]
    assert [status for status, _ in refused] == [409, 409, 404, 404, 400], refused

    # the same Kafka record delivered twice (a redelivery) is stored once too
    redelivered = AlertAction(alert_id=a_real.alert_id, action="complaint", by="bo", at=answers[2][1]["at"],
                              mention_id=real.mention_id, customer_id=cid, brand=brand, channel="twitter")
    produce(s, topics.ACTIONS, [(a_real.alert_id.encode(), encode(redelivered))] * 2)

    expected = [(a_real.alert_id, real.mention_id, "complaint", "bo", cid, brand, "twitter"),
                ("", missed.mention_id, "missed_complaint", "ann", cid, brand, "twitter"),
                (a_false.alert_id, false_alarm.mention_id, "not_complaint", "ann", cid, brand, "twitter")]
    rows = wait_for_rows(s, FEEDBACK_SQL, {"b": brand}, expected, timeout=60)
    assert rows == expected
    c = client(s)
    try:
        # one row per feedback_id, and its latest `at` is the second click's
        assert c.execute("SELECT count(), uniqExact(feedback_id) FROM complaint_feedback FINAL WHERE brand = %(b)s",
                         {"b": brand}) == [(3, 3)]
        latest = c.execute("SELECT at FROM complaint_feedback FINAL WHERE alert_id = %(a)s",
                           {"a": a_false.alert_id})[0][0]
        assert to_iso(latest.replace(tzinfo=timezone.utc)) == answers[1][1]["at"]

        # training rows: one per mention, texts from `mentions`
        mine = {r.id: r for r in fetch_feedback(c, days=7) if r.brand == brand}
        assert {k: (r.label, r.domain, r.text) for k, r in mine.items()} == {
            false_alarm.mention_id: (0, "feedback", false_alarm.text),
            real.mention_id: (1, "feedback", real.text),
            missed.mention_id: (1, "feedback", missed.text)}
        assert {r.id for r in fetch_feedback(c) if r.brand == brand} == set(mine)
    finally:
        c.disconnect()

    # measured precision: 2 complaint alerts (the spike is no complaint prediction), both reviewed, one false alarm
    status, body = call(dashboard, "GET", "/api/precision?days=7")
    assert status == 200
    ours = [b for b in body["brands"] if b["brand"] == brand]
    assert len(ours) == 1, body
    assert {k: ours[0][k] for k in ("alerts", "reviewed", "not_complaint", "confirmed", "precision", "noisy")} == \
        {"alerts": 2, "reviewed": 2, "not_complaint": 1, "confirmed": 1, "precision": 0.5, "noisy": True}
    assert 0 < ours[0]["low"] < 0.5 < ours[0]["high"] < 1

    # a later verdict replaces the earlier one: the false alarm confirmed after all → precision 1.0
    assert call(dashboard, "POST", f"/api/alerts/{quoted(a_false.alert_id)}/complaint", {"by": "ann"})[0] == 202
    wait_for_rows(s, "SELECT argMax(verdict, at) FROM complaint_feedback FINAL WHERE alert_id = %(a)s",
                  {"a": a_false.alert_id}, [("complaint",)])
    ours = [b for b in call(dashboard, "GET", "/api/precision")[1]["brands"] if b["brand"] == brand]
    assert (ours[0]["reviewed"], ours[0]["not_complaint"], ours[0]["precision"]) == (2, 0, 1.0)

    # the customer page shows the verdicts on the open alerts and on the timeline
    status, profile = call(dashboard, "GET", f"/api/customers/{cid}")
    assert status == 200
    verdicts = {t["ref_id"]: t["verdict"] for t in profile["timeline"] if t["verdict"]}
    assert verdicts == {a_false.alert_id: "complaint", a_real.alert_id: "complaint",
                        missed.mention_id: "missed_complaint"}
    assert {a["alert_id"]: a["verdict"] for a in profile["open_alerts"]}[a_false.alert_id] == "complaint"


def test_kpis_warn_only_when_no_brand_is_configured(s, tmp_path):
    assert s.brands_file  # the session's stack runs with the sample brands
    token = "test-" + uuid.uuid4().hex
    for settings, expected in ((s, (4, [])),
                               (dataclasses.replace(s, brands_file="", data_dir=tmp_path), (0, [NO_BRANDS_WARNING]))):
        d = DashboardThread(dataclasses.replace(settings, dashboard_token=token), token)
        d.start()
        try:
            status, k = call(d, "GET", "/api/kpis")
        finally:
            d.stop()
        assert status == 200 and (k["brands_configured"], k["warnings"]) == expected
