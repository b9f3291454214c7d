"""The customer 360 API without ClickHouse: what the search box means, the masking of e-mail addresses in every
answer, the timeline's shape, and the handlers' answers to bad input (the real queries run in
tests/integration/test_customer_page.py)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from aiohttp.test_utils import TestClient, TestServer

from pipeline.domain.identity import prospect_id
from pipeline.settings import Settings
from pipeline.web import customers
from pipeline.web.server import create_web_app

from .test_dashboard import BEARER, TOKEN, StubFeed

AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def test_search_means_email_key_handle_or_id():
    p = customers.search_params(" Alice@Example.com ")
    assert (p["key"], p["handle"], p["prefix"]) == ("email:alice@example.com", "alice@example.com", "")
    p = customers.search_params("Twitter:@Bob")
    assert (p["key"], p["prefix"]) == ("twitter:bob", "")
    p = customers.search_params("@BobSmith")
    assert (p["handle"], p["prefix"]) == ("bobsmith", "bobsmith")
    p = customers.search_params("bo")  # too short to be a prefix: exact handle or id only
    assert (p["handle"], p["prefix"], p["q"]) == ("bo", "", "bo")
    assert customers.search_params("C-17")["q"] == "C-17"


def test_email_addresses_are_masked_everywhere():
    rows = [("C-1", False, ["email:alice@example.com", "twitter:alice"], "Alice", "gold", 10.0)]
    assert customers.search_view(rows)[0]["matched"] == ["email:a***@example.com", "twitter:alice"]
    assert customers.mask_text("write to alice.b@mail.example.org or bob@x.io") == \
        "write to a***@mail.example.org or b***@x.io"
    timeline = customers.timeline_view([
        (AT, "mention", "email:1", "email", "acme", "alice@example.com", "from alice@example.com: refund!",
         "negative", -0.5, True, "refund,angry", ""),
        (AT, "alert", "complaint:1", "email", "acme", "", "from alice@example.com: refund!", "negative", -0.5,
         True, "vip_complaint / critical", "open"),
    ])
    assert [t["author"] for t in timeline] == ["a***@example.com", ""]
    assert all("alice@" not in t["text"] for t in timeline)
    assert timeline[0]["cues"] == ["refund", "angry"] and timeline[0]["at"] == "2026-11-23T09:00:00.000Z"
    assert (timeline[1]["alert_type"], timeline[1]["severity"], timeline[1]["cues"]) == \
        ("vip_complaint", "critical", [])


class NoQueries:
    """Fails the test if a handler reaches ClickHouse for input it should have refused."""

    async def execute(self, sql: str, params: dict) -> list[tuple]:
        raise AssertionError(f"queried ClickHouse for refused input: {sql[:60]}")

    def close(self) -> None:
        pass


def run(scenario):
    async def main():
        app = create_web_app(Settings(), TOKEN, feed=StubFeed(), queries=NoQueries())
        server = TestServer(app)
        await server.start_server()
        async with TestClient(server) as client:
            return await scenario(client)
    return asyncio.run(main())


def test_bad_input_gets_400_with_what_to_do():
    async def scenario(client):
        out = []
        for method, path, body in (("GET", "/api/customers", None), ("GET", "/api/customers?q=%20", None),
                                   ("GET", "/api/customers/bad%20id", None),
                                   ("POST", "/api/customers/C-1/link", {"customer_id": "C-2"}),
                                   ("POST", f"/api/customers/{prospect_id('twitter:x')}/link", {"nope": 1}),
                                   ("GET", "/api/advocates?days=many", None)):
            r = await client.request(method, path, json=body, headers=BEARER)
            out.append((r.status, (await r.text())[:200]))
        return out

    answers = run(scenario)
    assert [status for status, _ in answers] == [400] * 6, answers
    assert "handle" in answers[0][1] and "prospect" in answers[3][1] and "customer_id" in answers[4][1]
    assert "days must be an integer" in answers[5][1]


def test_customer_page_needs_the_token():
    async def scenario(client):
        return [(await client.get(path)).status for path in ("/customer", "/api/customers?q=bob",
                                                              "/api/customers/C-1", "/api/advocates")]

    assert run(scenario) == [401, 401, 401, 401]
