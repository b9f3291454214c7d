"""Verdicts, measured precision and the no-brands warning on the dashboard without Kafka/ClickHouse (stand-ins for
both): what each endpoint produces to alerts.actions, its answers to bad, unknown and unfitting input, and the
shape of /api/precision (the real queries run in tests/integration/test_complaint_feedback.py)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from pipeline.adapters.clickhouse.feedback_sql import ALERT_REF_SQL, MENTION_REF_SQL, PRECISION_SQL
from pipeline.domain.brands import Brand, Brands, BrandsError
from pipeline.settings import Settings
from pipeline.web.feed import AlertRef
from pipeline.web.feedback import precision_answer
from pipeline.web.server import create_web_app
from pipeline.web.status import NO_BRANDS_WARNING, BrandsCheck, brands_state

from .test_dashboard import BEARER, TOKEN, StubFeed


class FeedbackQueries:
    """ClickHouse as the feedback endpoints see it: two alerts (a complaint, a spike), two mentions (one flagged)."""

    alerts = {"complaint:1": ("vip_complaint", "twitter:1", "C-1", "acme", "twitter"),
              "spike:1": ("spike", "twitter:9", "", "acme", "twitter")}
    mentions = {"twitter:2": ("C-1", "acme", "twitter", False), "email:3 x/y": ("P-1", "", "email", False),
                "twitter:1": ("C-1", "acme", "twitter", True)}

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def execute(self, sql: str, params: dict) -> list[tuple]:
        self.calls.append((sql, params))
        if sql == ALERT_REF_SQL:
            return [self.alerts[params["id"]]] if params["id"] in self.alerts else []
        if sql == MENTION_REF_SQL:
            return [self.mentions[params["id"]]] if params["id"] in self.mentions else []
        if sql == PRECISION_SQL:
            return [("acme", 40, 25, 5), ("brewly", 7, 3, 1), ("", 2, 0, 0)]
        if "count() AS mentions" in sql:
            return [(0, 0, 0)]
        if "countIf(status = 'open')" in sql:
            return [(0, 0, 0)]
        raise AssertionError(sql)

    def close(self) -> None:
        pass


def run(scenario, settings: Settings | None = None):
    async def main():
        feed, queries = StubFeed(), FeedbackQueries()
        server = TestServer(create_web_app(settings or Settings(), TOKEN, feed=feed, queries=queries))
        await server.start_server()
        async with TestClient(server) as client:
            return await scenario(client, feed, queries)
    return asyncio.run(main())


def test_alert_verdicts_produce_actions_with_what_was_judged():
    async def scenario(client, feed, queries):
        nc = await client.post("/api/alerts/complaint:1/not_complaint", headers=BEARER, json={"by": " ann "})
        ok = await client.post("/api/alerts/complaint%3A1/complaint", headers=BEARER)
        return nc.status, await nc.json(), ok.status, feed.actions

    nc_status, body, ok_status, actions = run(scenario)
    assert (nc_status, ok_status) == (202, 202)
    assert body["verdict"] == "not_complaint" and body["status"] is None and body["mention_id"] == "twitter:1"
    first, second = actions
    assert (first.alert_id, first.action, first.by) == ("complaint:1", "not_complaint", "ann")
    assert (first.mention_id, first.customer_id, first.brand, first.channel) == ("twitter:1", "C-1", "acme", "twitter")
    assert (second.action, second.by) == ("complaint", "dashboard")


def test_an_alert_seen_live_needs_no_clickhouse():
    async def scenario(client, feed, queries):
        feed.remember("complaint:live", AlertRef("complaint", "facebook:5", "P-9", "brewly", "facebook"))
        r = await client.post("/api/alerts/complaint:live/not_complaint", headers=BEARER)
        return r.status, feed.actions, [sql for sql, _ in queries.calls]

    status, actions, calls = run(scenario)
    assert status == 202 and calls == []
    assert (actions[0].mention_id, actions[0].brand) == ("facebook:5", "brewly")


def test_missed_complaint_on_a_mention():
    async def scenario(client, feed, queries):
        r = await client.post("/api/mentions/twitter%3A2/missed_complaint", headers=BEARER, json={"by": "bo"})
        odd = await client.post("/api/mentions/email%3A3%20x%2Fy/missed_complaint", headers=BEARER)
        return r.status, await r.json(), odd.status, feed.actions

    status, body, odd, actions = run(scenario)
    assert (status, odd) == (202, 202) and body["verdict"] == "missed_complaint"
    assert (actions[0].alert_id, actions[0].mention_id, actions[0].customer_id, actions[0].by) == \
        ("", "twitter:2", "C-1", "bo")
    assert actions[1].mention_id == "email:3 x/y"  # any source id, percent-encoded in the path


def test_bad_unknown_and_unfitting_verdicts():
    async def scenario(client, feed, queries):
        out = {}
        for name, path, body in (
                ("bad alert id", "/api/alerts/" + "a" * 300 + "/not_complaint", None),
                ("bad mention id", "/api/mentions/no-channel/missed_complaint", None),
                ("bad body", "/api/alerts/complaint:1/not_complaint", b"{nope"),
                ("unknown alert", "/api/alerts/complaint:404/not_complaint", None),
                ("unknown mention", "/api/mentions/twitter:404/missed_complaint", None),
                ("spike", "/api/alerts/spike:1/not_complaint", None),
                ("flagged mention", "/api/mentions/twitter:1/missed_complaint", None),
                ("missed on an alert", "/api/alerts/complaint:1/missed_complaint", None),
                ("not_complaint on a mention", "/api/mentions/twitter:2/not_complaint", None)):
            r = await client.post(path, headers=BEARER, data=body)
            out[name] = (r.status, (await r.text())[:300])
        return out, feed.actions

    answers, actions = run(scenario)
    assert {k: s for k, (s, _) in answers.items()} == {
        "bad alert id": 400, "bad mention id": 400, "bad body": 400, "unknown alert": 404, "unknown mention": 404,
        "spike": 409, "flagged mention": 409, "missed on an alert": 404, "not_complaint on a mention": 404}
    assert "<channel>:<id>" in answers["bad mention id"][1] and "body must be JSON" in answers["bad body"][1]
    assert "no alert complaint:404" in answers["unknown alert"][1]
    assert "not a complaint prediction" in answers["spike"][1]
    assert "flagged as a complaint already" in answers["flagged mention"][1]
    assert actions == []  # nothing produced for any of them


def test_verdicts_need_the_token():
    async def scenario(client, feed, queries):
        return [(await client.post(p)).status for p in ("/api/alerts/complaint:1/not_complaint",
                                                         "/api/mentions/twitter:2/missed_complaint")] + \
            [(await client.get("/api/precision")).status], feed.actions

    assert run(scenario) == ([401, 401, 401], [])


def test_precision_endpoint():
    async def scenario(client, feed, queries):
        r = await client.get("/api/precision?days=30", headers=BEARER)
        bad = await client.get("/api/precision?days=week", headers=BEARER)
        return await r.json(), bad.status, queries.calls

    body, bad, calls = run(scenario)
    assert bad == 400
    assert calls[0][1] == {"days": 30, "types": ("complaint", "repeat_complaint", "cross_channel_complaint",
                                                 "vip_complaint"),
                           "verdicts": ("not_complaint", "complaint")}
    acme, brewly, unbranded = body["brands"]
    assert (acme["brand"], acme["alerts"], acme["reviewed"], acme["not_complaint"], acme["confirmed"]) == \
        ("acme", 40, 25, 5, 20)
    assert acme["precision"] == 0.8 and acme["noisy"] is False and acme["low"] < 0.8 < acme["high"]
    assert brewly["noisy"] is True and brewly["precision"] == 0.6667
    assert unbranded["precision"] is None and unbranded["low"] is None
    assert body["overall"]["reviewed"] == 28 and body["overall"]["alerts"] == 49
    assert body["days"] == 30 and body["min_reviews"] == 20 and "noisy" in body["note"]


def test_precision_answer_without_alerts():
    answer = precision_answer([], 7)
    assert answer["brands"] == [] and answer["overall"]["precision"] is None


# --- the no-brands warning -------------------------------------------------------------------------------------

def test_brands_state():
    assert brands_state(Settings(), load=lambda s: Brands()).warnings == [NO_BRANDS_WARNING]
    assert brands_state(Settings(), load=lambda s: Brands([Brand(name="Acme")])).warnings == []

    def broken(s):
        raise BrandsError("brands.yml: not valid YAML (line 3, column 1)")

    state = brands_state(Settings(), load=broken)
    assert state.count == 0 and "line 3" in state.warnings[0]


def test_brands_check_rereads_after_a_while():
    loads, now = [], [0.0]

    def load(s):
        loads.append(1)
        return Brands() if len(loads) == 1 else Brands([Brand(name="Acme")])

    check = BrandsCheck(Settings(), load=load, recheck=30, clock=lambda: now[0])
    assert check.check().count == 0 and check.check().count == 0 and len(loads) == 1
    now[0] = 31.0
    assert check.check().count == 1 and check.check().warnings == []


def test_kpis_carry_the_no_brands_warning(tmp_path: Path):
    async def scenario(client, feed, queries):
        return await (await client.get("/api/kpis", headers=BEARER)).json()

    none = run(scenario, Settings(data_dir=tmp_path))
    assert (none["brands_configured"], none["warnings"]) == (0, [NO_BRANDS_WARNING])
    (tmp_path / "brands.yml").write_text("brands:\n  - name: Acme\n    handles: {twitter: ['@acme']}\n")
    some = run(scenario, Settings(data_dir=tmp_path))
    assert (some["brands_configured"], some["warnings"]) == (1, [])
