"""Dashboard server without Kafka/ClickHouse (stand-ins for both): token auth, cookie flow, security headers,
actions, SSE framing, and that the page never turns data into HTML."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pipeline.contract.records import Alert, AlertAction, PriorComplaints
from pipeline.domain.sentiment import Sentiment
from pipeline.settings import Settings
from pipeline.web import server
from pipeline.web.feed import FanOut
from pipeline.web.server import (ALERT_VIEW_COLUMNS, COOKIE_NAME, AccessLogger, Subscriber, alert_view,
                                 alert_view_from_row, create_web_app, sentiment_series, sse_event)

TOKEN = "t0k3n-" + "x" * 20
STATIC = Path(server.__file__).parent / "static"
HOSTILE = "lost my bag <img src=x onerror=alert(1)> </script><script>alert(2)</script>"


class StubFeed(FanOut):
    """The real fan-out without the Kafka side: started at once, actions recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = asyncio.Event()
        self.actions: list[AlertAction] = []
        self.records: list[tuple] = []

    async def start(self) -> None:
        self.ready.set()

    async def stop(self) -> None:
        self.close_all()

    async def send_action(self, action: AlertAction) -> None:
        self.actions.append(action)

    async def send_many(self, records) -> None:
        self.records.extend(records)


def ch_row(alert_id: str = "complaint:00000000000000000001", text: str = HOSTILE) -> tuple:
    values = {
        "alert_id": alert_id, "type": "vip_complaint", "severity": "critical", "reasons": ["VIP: gold tier"],
        "mention_id": "twitter:1", "customer_id": "C-1", "is_prospect": False, "brand": "aerolux",
        "channel": "twitter", "text": text, "sentiment_compound": -0.81234, "complaint_score": 0.9,
        "prior_complaints": 2, "prior_window_days": 30, "channels_complained_on": ["email", "twitter"],
        "customer_tier": "gold", "customer_lifetime_value": 12000.0, "influence": 0.5,
        "created_at": datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc), "status": "open", "assignee": "",
        "window_start": None, "top_mentions": [],
    }
    return tuple(values[c] for c in ALERT_VIEW_COLUMNS)


class StubQueries:
    #: The alert ids ClickHouse "has" (ack/resolve of any other id is a 404).
    known = {"complaint:abc", "complaint:00000000000000000001"}

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def execute(self, sql: str, params: dict) -> list[tuple]:
        self.calls.append((sql, params))
        if "SELECT count() FROM alerts FINAL WHERE alert_id" in sql:
            return [(int(params["id"] in self.known),)]
        if "FROM alerts_unresolved FINAL\nWHERE status" in sql:
            return [ch_row()]
        if "FROM complaint_feedback FINAL\nWHERE alert_id IN" in sql:  # the snapshot's verdicts
            return [(a, "not_complaint", "ann") for a in params["ids"]]
        if "count() AS mentions" in sql and "countIf(is_complaint)" in sql:
            return [(50, 10, 4)]
        if "countIf(status = 'open')" in sql:
            return [(3, 1, 2)]
        if "toStartOfHour" in sql:
            return [(datetime(2026, 11, 23, 8, tzinfo=timezone.utc), "aerolux", 4, -0.25)]
        raise AssertionError(sql)

    def close(self) -> None:
        pass


def run(scenario, **runner_kwargs):
    """Run `scenario(client, feed, queries)` against the app on a real local socket."""
    async def main():
        feed, queries = StubFeed(), StubQueries()
        test_server = TestServer(create_web_app(Settings(), TOKEN, feed=feed, queries=queries))
        await test_server.start_server(**runner_kwargs)
        async with TestClient(test_server) as client:
            return await scenario(client, feed, queries)
    return asyncio.run(main())


BEARER = {"Authorization": f"Bearer {TOKEN}"}


# --- auth -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/static/app.js", "/api/alerts", "/api/kpis", "/api/sentiment",
                                  "/api/stream"])
def test_401_without_token(path):
    async def scenario(client, feed, queries):
        plain = await client.get(path)
        wrong = await client.get(path, headers={"Authorization": "Bearer nope"})
        bad_query = await client.get(path + "?token=nope", allow_redirects=False)
        bad_cookie = await client.get(path, cookies={COOKIE_NAME: TOKEN})  # the raw token is not a session
        return plain.status, wrong.status, bad_query.status, bad_cookie.status, plain.headers.get("WWW-Authenticate")

    *statuses, challenge = run(scenario)
    assert statuses == [401, 401, 401, 401]
    assert challenge and challenge.startswith("Bearer")


def test_post_needs_token_too():
    async def scenario(client, feed, queries):
        r = await client.post("/api/alerts/complaint:1/ack")
        return r.status, feed.actions

    assert run(scenario) == (401, [])


def test_health_and_metrics_are_open():
    async def scenario(client, feed, queries):
        h = await client.get("/health")
        m = await client.get("/metrics")
        return h.status, await h.json(), m.status, await m.text()

    h_status, health, m_status, text = run(scenario)
    assert h_status == 200 and health == {"ok": True, "live": True}
    assert m_status == 200 and "socialpulse_webhook_deliveries_total" in text


def test_bearer_token_gives_200():
    async def scenario(client, feed, queries):
        page = await client.get("/", headers=BEARER)
        js = await client.get("/static/app.js", headers=BEARER)
        alerts = await client.get("/api/alerts", headers=BEARER)
        return page.status, await page.text(), js.status, alerts.status, await alerts.json()

    page_status, html, js_status, alerts_status, alerts = run(scenario)
    assert (page_status, js_status, alerts_status) == (200, 200, 200)
    assert "<title>socialpulse" in html
    assert alerts["alerts"][0]["text"] == HOSTILE  # JSON carries the text as is; the page renders it as text
    assert alerts["alerts"][0]["created_at"] == "2026-11-23T09:00:00.000Z"


def test_cookie_flow_via_query_token():
    async def scenario(client, feed, queries):
        first = await client.get(f"/?token={TOKEN}&x=1", allow_redirects=False)
        set_cookie = first.headers.getall("Set-Cookie")
        page = await client.get("/")  # the client's cookie jar now holds the session cookie
        stream = await client.get("/api/kpis")
        action = await client.post("/api/alerts/complaint:abc/ack", json={"by": "Ana"})
        return first.status, first.headers["Location"], set_cookie, page.status, stream.status, action.status, \
            feed.actions

    status, location, set_cookie, page_status, kpi_status, action_status, actions = run(scenario)
    assert status == 303
    assert location == "/?x=1" and TOKEN not in location
    cookie = next(c for c in set_cookie if c.startswith(COOKIE_NAME + "="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert TOKEN not in cookie  # the cookie holds a signed session, not the token
    assert "Secure" not in cookie  # plain HTTP, no trusted proxy: a Secure cookie would never come back
    assert (page_status, kpi_status, action_status) == (200, 200, 202)
    assert actions[0].alert_id == "complaint:abc" and actions[0].action == "ack" and actions[0].by == "Ana"


def test_token_redirect_stays_on_this_origin():
    async def scenario(client, feed, queries):
        from yarl import URL

        url = URL(f"http://127.0.0.1:{client.port}//evil.example/?token={TOKEN}", encoded=True)
        r = await client.session.get(url, allow_redirects=False)
        return r.status, r.headers.get("Location"), str(r.url)

    status, location, requested = run(scenario)
    assert "//evil.example" in requested  # the request really had the double slash
    assert status == 303 and location == "/evil.example/", location


def test_cross_origin_post_with_cookie_is_refused():
    async def scenario(client, feed, queries):
        await client.get(f"/?token={TOKEN}", allow_redirects=False)
        evil = await client.post("/api/alerts/complaint:abc/resolve", headers={"Origin": "http://evil.example"})
        return evil.status, feed.actions

    assert run(scenario) == (403, [])


@pytest.mark.parametrize("access_log_class", [AccessLogger, None])
def test_token_never_logged(caplog, access_log_class):
    """Neither our access logger nor aiohttp's default one (redacted by a filter) writes the token."""
    async def scenario(client, feed, queries):
        await client.get(f"/?token={TOKEN}", allow_redirects=False)
        await client.get("/?token=wrong-guess")
        await client.get("/", headers=BEARER)

    with caplog.at_level(logging.DEBUG):
        run(scenario, **({"access_log_class": access_log_class} if access_log_class else {}))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ("GET / 303" if access_log_class else "GET /?token=*** HTTP") in logged
    assert TOKEN not in logged and "wrong-guess" not in logged


# --- headers and actions ----------------------------------------------------------------------------------------

def test_security_headers():
    async def scenario(client, feed, queries):
        out = {}
        for path in ("/", "/static/app.js", "/api/kpis"):
            r = await client.get(path, headers=BEARER)
            out[path] = r.headers
        out["401"] = (await client.get("/")).headers
        return out

    for path, headers in run(scenario).items():
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_actions_produce_alert_actions():
    async def scenario(client, feed, queries):
        ack = await client.post("/api/alerts/complaint%3Aabc/ack", headers=BEARER)
        res = await client.post("/api/alerts/complaint:abc/resolve", headers=BEARER, json={"by": "x" * 500})
        bogus = await client.post("/api/alerts/complaint:abc/delete", headers=BEARER)
        bad_id = await client.post("/api/alerts/" + "a" * 300 + "/ack", headers=BEARER)
        return ack.status, await ack.json(), res.status, bogus.status, bad_id.status, feed.actions

    ack_status, body, res_status, bogus, bad_id, actions = run(scenario)
    assert (ack_status, res_status, bogus, bad_id) == (202, 202, 404, 400)
    assert body["status"] == "acked" and body["alert_id"] == "complaint:abc"
    assert [(a.alert_id, a.action) for a in actions] == [("complaint:abc", "ack"), ("complaint:abc", "resolve")]
    assert actions[0].by == "dashboard" and len(actions[1].by) == 80
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", actions[0].at)


def test_kpis_and_sentiment_shape():
    async def scenario(client, feed, queries):
        k = await (await client.get("/api/kpis?brand=aerolux", headers=BEARER)).json()
        s = await (await client.get("/api/sentiment?hours=9999", headers=BEARER)).json()
        bad = await client.get("/api/sentiment?hours=abc", headers=BEARER)
        return k, s, bad.status, queries.calls

    k, s, bad, calls = run(scenario)
    assert k["mentions_per_min"] == 10.0 and k["negative_share"] == 0.2 and k["open_alerts"] == 3
    assert k["critical_open"] == 1 and k["brand"] == "aerolux"
    assert s["hours"] == 24 * 14 and s["series"][0]["brand"] == "aerolux"
    assert s["series"][0]["points"] == [{"hour": "2026-11-23T08:00:00.000Z", "avg": -0.25, "n": 4}]
    assert bad == 400
    assert all("%(" in sql or not params for sql, params in calls)  # parameters, never string formatting
    assert {"brand": "aerolux"} in [p for _, p in calls]


def test_sse_sends_snapshot_then_live_alerts():
    alert = Alert(alert_id="complaint:live", type="complaint", severity="high", reasons=["r"], mention_id="t:1",
                  customer_id="P-1", brand="aerolux", channel="twitter", text=HOSTILE + "\nline two",
                  sentiment=Sentiment(compound=-0.7, pos=0, neu=0.3, neg=0.7, label="negative"),
                  prior_complaints=PriorComplaints(count=0, window_days=30), channels_complained_on=["twitter"],
                  created_at="2026-11-23T10:00:00.000Z", is_prospect=True)

    async def scenario(client, feed, queries):
        resp = await client.get("/api/stream", headers=BEARER)
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events, buf, published = [], b"", False
        while len(events) < 2:
            buf += await asyncio.wait_for(resp.content.readany(), 5)
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.decode().split("\n") if ": " in line)
                if "event" in fields:
                    events.append((fields["event"], json.loads(fields["data"])))
            if events and not published:
                feed.publish(sse_event("alert", alert_view(alert)))
                published = True
        resp.close()
        return events

    events = run(scenario)
    assert events[0][0] == "snapshot" and events[0][1]["alerts"][0]["alert_id"] == "complaint:00000000000000000001"
    assert (events[0][1]["alerts"][0]["verdict"], events[0][1]["alerts"][0]["verdict_by"]) == ("not_complaint", "ann")
    assert events[1][0] == "alert" and events[1][1]["text"] == HOSTILE + "\nline two"
    assert events[1][1]["status"] == "open" and events[1][1]["is_prospect"] is True


def test_sse_announces_when_the_feed_becomes_live():
    async def scenario(client, feed, queries):
        feed.ready.clear()
        resp = await client.get("/api/stream", headers=BEARER)
        names, buf = [], b""
        while "live" not in names:
            buf += await asyncio.wait_for(resp.content.readany(), 5)
            names = [line[7:] for line in buf.decode().split("\n") if line.startswith("event: ")]
            if names == ["snapshot"] and not feed.ready.is_set():
                assert b'"live":false' in buf
                feed.ready.set()
        resp.close()
        return names

    assert run(scenario) == ["snapshot", "live"]


def test_views_agree():
    row_view = alert_view_from_row(ch_row())
    assert set(row_view) == set(ALERT_VIEW_COLUMNS)
    assert row_view["sentiment_compound"] == -0.812 and row_view["is_prospect"] is False
    alert = Alert(alert_id="a", type="spike", severity="high", reasons=[], mention_id="m", customer_id="c",
                  brand=None, channel="twitter", text="t", sentiment=Sentiment(0.0, 0.0, 1.0, 0.0, "neutral"),
                  prior_complaints=PriorComplaints(count=0, window_days=30), channels_complained_on=[],
                  created_at="2026-11-23T10:00:00.000Z")
    assert set(alert_view(alert)) == set(ALERT_VIEW_COLUMNS)
    assert alert_view(alert)["brand"] == "" and alert_view(alert)["customer_tier"] == ""


def test_spike_context_in_both_views():
    from pipeline.contract.records import AlertMention

    row = list(ch_row("spike:1"))
    row[ALERT_VIEW_COLUMNS.index("window_start")] = datetime(2026, 11, 23, 14, tzinfo=timezone.utc)
    row[ALERT_VIEW_COLUMNS.index("top_mentions")] = [("twitter:9", HOSTILE, -0.91234)]
    from_row = alert_view_from_row(tuple(row))
    assert from_row["window_start"] == "2026-11-23T14:00:00.000Z"
    assert from_row["top_mentions"] == [{"mention_id": "twitter:9", "text": HOSTILE, "sentiment_compound": -0.912}]
    alert = Alert(alert_id="spike:1", type="spike", severity="high", reasons=[], mention_id="twitter:9",
                  customer_id="c", brand="aerolux", channel="twitter", text=HOSTILE,
                  sentiment=Sentiment(-0.9, 0.0, 0.5, 0.5, "negative"),
                  prior_complaints=PriorComplaints(count=0, window_days=30), channels_complained_on=[],
                  created_at="2026-11-23T15:00:00.000Z", window_start="2026-11-23T14:00:00.000Z",
                  top_mentions=[AlertMention(mention_id="twitter:9", text=HOSTILE, sentiment_compound=-0.91234)])
    live = alert_view(alert)
    assert (live["window_start"], live["top_mentions"]) == (from_row["window_start"], from_row["top_mentions"])


def test_sentiment_series_keeps_busiest_brands():
    hour = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    rows = [(hour, f"b{i}", i + 1, 0.1) for i in range(12)]
    series = sentiment_series(rows, max_brands=3)
    assert [s["brand"] for s in series] == ["b11", "b10", "b9"]


def test_slow_subscriber_is_closed_not_blocking():
    sub = Subscriber(maxsize=2)
    for _ in range(5):
        sub.push(b"x")
    assert sub.closed and sub.queue.get_nowait() is None


# --- the page never turns data into HTML -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["common.js", "app.js", "customer.js"])
def test_page_scripts_build_dom_with_text_only(name):
    js = (STATIC / name).read_text()
    code = "\n".join(line for line in js.splitlines() if not line.strip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setAttribute(\"on", "srcdoc", "javascript:"):
        assert sink not in code, sink
    assert "textContent" in code or "el(" in code
    assert re.search(r"setTimeout\(\s*['\"]", code) is None  # no string-eval timers


def test_every_script_is_checked():
    assert sorted(p.name for p in STATIC.glob("*.js")) == ["app.js", "common.js", "customer.js"]


@pytest.mark.parametrize("name", ["index.html", "customer.html", "signed-out.html"])
def test_pages_have_no_inline_code(name):
    html = (STATIC / name).read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"\son[a-z]+\s*=", html, re.I) is None
    assert re.search(r"\sstyle\s*=", html, re.I) is None and "<style" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from another origin


@pytest.mark.parametrize("name", ["index.html", "customer.html"])
def test_pages_have_a_sign_out_button_that_needs_no_script(name):
    html = (STATIC / name).read_text()
    assert re.search(r'<form method="post" action="/logout"[^>]*><button type="submit" id="signout">Sign out</button>'
                     r'</form>', html)
