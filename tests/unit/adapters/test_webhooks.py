"""Webhook rules (pure) and the dispatcher against a real local HTTP server on 127.0.0.1."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web

from pipeline import metrics
from pipeline.adapters.webhooks import WebhookDispatcher, endpoint_label, matches, split_list
from pipeline.contract.records import Alert, PriorComplaints
from pipeline.domain.sentiment import Sentiment
from pipeline.ops.services.process import free_port
from pipeline.settings import Settings


def make_alert(severity: str = "high", brand: str | None = "aerolux", n: int = 1) -> Alert:
    return Alert(alert_id=f"complaint:{n:020x}", type="complaint", severity=severity, reasons=["negative complaint"],
                 mention_id=f"twitter:{n}", customer_id="C-1", brand=brand, channel="twitter",
                 text="lost my bag <img src=x onerror=alert(1)>",
                 sentiment=Sentiment(compound=-0.8, pos=0.0, neu=0.4, neg=0.6, label="negative"),
                 prior_complaints=PriorComplaints(count=1, window_days=30), channels_complained_on=["twitter"],
                 created_at="2026-11-23T10:00:00.000Z")


def delivered_count(outcome: str) -> float:
    return metrics.REGISTRY.get_sample_value("socialpulse_webhook_deliveries_total", {"outcome": outcome}) or 0.0


# --- matches ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("severity,minimum,expected", [
    ("low", "low", True), ("medium", "low", True), ("critical", "high", True), ("high", "high", True),
    ("medium", "high", False), ("low", "critical", False), ("critical", "critical", True),
    ("HIGH", "high", True), ("unknown", "low", False), ("high", "bogus", False),
])
def test_matches_severity_order(severity, minimum, expected):
    assert matches(make_alert(severity), minimum, ()) is expected


def test_matches_brands():
    alert = make_alert("high", "AeroLux")
    assert matches(alert, "low", "")
    assert matches(alert, "low", [])
    assert matches(alert, "low", "aerolux, other")
    assert matches(alert, "low", ["other", "AEROLUX"])
    assert not matches(alert, "low", "other")
    assert not matches(make_alert("high", None), "low", "aerolux")
    assert matches(make_alert("high", None), "low", "")
    assert not matches(make_alert("low", "aerolux"), "high", "aerolux")


def test_split_list_and_endpoint_label_hide_secrets():
    assert split_list(" a, ,b,") == ["a", "b"]
    assert split_list(None) == []
    assert endpoint_label("https://hooks.example.com/services/T000/B000/SECRET?x=1") == "https://hooks.example.com"
    assert endpoint_label("http://127.0.0.1:8099/hook") == "http://127.0.0.1:8099"


# --- dispatcher against a real server --------------------------------------------------------------------------

class Receiver:
    """A real aiohttp server on 127.0.0.1 that answers with a scripted list of statuses (then 200)."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append({"headers": dict(request.headers), "body": await request.read()})
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 300 else "no")

    async def __aenter__(self) -> "Receiver":
        app = web.Application()
        app.router.add_post("/hook/{secret}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - port 0 → the one chosen
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/s3cret"


def dispatcher_for(urls: list[str], max_retries: int = 5, **kwargs) -> WebhookDispatcher:
    s = Settings(webhook_urls=",".join(urls), webhook_max_retries=max_retries)
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_max", 0.05)
    return WebhookDispatcher(s, **kwargs)


def test_retries_5xx_then_delivers_once():
    async def scenario():
        async with Receiver([503, 503, 200]) as rx:
            d = dispatcher_for([rx.url])
            await d.start()
            try:
                before = {k: delivered_count(k) for k in ("delivered", "retry", "failed")}
                result = await d.deliver(make_alert())
                after = {k: delivered_count(k) for k in ("delivered", "retry", "failed")}
            finally:
                await d.stop()
            return rx.requests, result, before, after

    requests, result, before, after = asyncio.run(scenario())
    assert list(result.values()) == ["delivered"]
    assert len(requests) == 3
    assert after["delivered"] - before["delivered"] == 1
    assert after["retry"] - before["retry"] == 2
    assert after["failed"] == before["failed"]
    for req in requests:
        assert req["headers"]["Idempotency-Key"] == "complaint:" + "0" * 19 + "1"
        assert req["headers"]["Content-Type"] == "application/json"
        body = json.loads(req["body"])
        assert body["alert_id"] == make_alert().alert_id and body["text"].startswith("lost my bag")


def test_429_is_retried_and_other_4xx_is_final():
    async def scenario():
        async with Receiver([429, 200]) as ok_rx, Receiver([400, 200]) as bad_rx:
            d = dispatcher_for([ok_rx.url, bad_rx.url])
            await d.start()
            try:
                failed = delivered_count("failed")
                result = await d.deliver(make_alert())
                failed = delivered_count("failed") - failed
            finally:
                await d.stop()
            return result, len(ok_rx.requests), len(bad_rx.requests), failed

    result, ok_attempts, bad_attempts, failed = asyncio.run(scenario())
    assert sorted(result.values()) == ["delivered", "failed"]
    assert ok_attempts == 2
    assert bad_attempts == 1  # a 400 is not retried
    assert failed == 1


def test_unreachable_endpoint_retries_then_fails(caplog):
    url = f"http://127.0.0.1:{free_port()}/hook/very-secret-path"

    async def scenario():
        d = dispatcher_for([url], max_retries=3)
        await d.start()
        try:
            counts = {k: delivered_count(k) for k in ("retry", "failed")}
            result = await d.deliver(make_alert())
            return result, {k: delivered_count(k) - v for k, v in counts.items()}
        finally:
            await d.stop()

    with caplog.at_level("WARNING", logger="pipeline.adapters.webhooks"):
        result, delta = asyncio.run(scenario())
    assert result == {url: "failed"}
    assert delta == {"retry": 2, "failed": 1}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "failed" in logged and "very-secret-path" not in logged and "lost my bag" not in logged


def test_queue_delivers_in_background():
    async def scenario():
        async with Receiver([]) as rx:
            d = dispatcher_for([rx.url])
            assert d.offer(make_alert(n=1))  # accepted before start: waits in the queue
            await d.start()
            try:
                assert d.offer(make_alert(n=2))
                await asyncio.wait_for(d.queue.join(), 5)
            finally:
                await d.stop()
            return sorted(r["headers"]["Idempotency-Key"] for r in rx.requests)

    assert asyncio.run(scenario()) == [make_alert(n=1).alert_id, make_alert(n=2).alert_id]


def test_offer_never_blocks_when_full():
    async def scenario():
        d = dispatcher_for(["http://127.0.0.1:9/hook"], queue_size=3)  # never started: nothing drains the queue
        failed = delivered_count("failed")
        started = time.perf_counter()
        accepted = [d.offer(make_alert(n=i)) for i in range(50)]
        elapsed = time.perf_counter() - started
        return accepted, elapsed, delivered_count("failed") - failed, d.queue.qsize()

    accepted, elapsed, failed, size = asyncio.run(scenario())
    assert accepted == [True] * 3 + [False] * 47
    assert elapsed < 0.5
    assert failed == 47 and size == 3


# --- wiring (agents/webhooks.py) ---------------------------------------------------------------------------------

def _pipeline(settings: Settings):
    import faust

    from pipeline.contract import topics
    from pipeline.runtime.app import Pipeline

    app = faust.App("t-webhooks", broker="kafka://127.0.0.1:1", key_serializer="raw", value_serializer="raw",
                    autodiscover=False)
    p = Pipeline(settings=settings, app=app)
    p.topics[topics.ALERTS] = app.topic(topics.ALERTS, internal=False)
    return p


def test_register_adds_service_and_agent_only_with_urls():
    from agents import webhooks

    p = _pipeline(Settings(webhook_urls="http://127.0.0.1:9/a, http://127.0.0.1:9/b"))
    dispatcher = webhooks.register(p)
    assert isinstance(dispatcher, WebhookDispatcher) and dispatcher.urls == ["http://127.0.0.1:9/a",
                                                                            "http://127.0.0.1:9/b"]
    assert p.webhooks is dispatcher
    assert "webhooks" in p.app.agents

    p = _pipeline(Settings())
    assert webhooks.register(p) is None
    assert p.webhooks is None and "webhooks" not in p.app.agents
