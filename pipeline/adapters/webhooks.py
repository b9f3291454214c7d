"""Webhook delivery of alerts: which alerts go out (pure `matches`) and the dispatcher that POSTs them (I/O).

Delivery contract (docs/guarantees.md): each matching alert is POSTed as JSON (the Alert record, `pipeline.codec`)
to every URL of `webhook_urls` with an `Idempotency-Key: <alert_id>` header, because a worker restart can deliver
an alert again. Connection errors, timeouts, 5xx and 429 are retried with exponential backoff (plus jitter, and
`Retry-After` when the server sends a number of seconds) up to `webhook_max_retries` attempts in total; any other
4xx is final. The queue in front of the HTTP calls is bounded and `offer()` never waits: when it is full the
alert is not queued, counted as failed and logged, so a dead endpoint can never stall the stream. Alerts still
queued when the worker stops are not delivered (at most once across a crash, at least once across replays).

Outcomes are counted in `metrics.WEBHOOK_DELIVERIES` (`delivered`, `retry`, `failed`). Logs name the endpoint by
scheme://host only (webhook URLs often carry a secret in their path) and never contain the payload.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any, Iterable, Optional, Union
from urllib.parse import urlsplit

import aiohttp
from mode import Service

from pipeline import metrics
from pipeline.codec import encode
from pipeline.contract.records import Alert
from pipeline.contract.severity import severity_rank
from pipeline.settings import Settings

log = logging.getLogger(__name__)

#: Severities from lowest to highest (ARCHITECTURE.md "Alert").

DELIVERED, RETRY, FAILED = "delivered", "retry", "failed"


def split_list(value: Union[str, Iterable[str], None]) -> list[str]:
    """'a, b,,c' or ['a', ' b'] → ['a', 'b', 'c'] (empty items dropped)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item and item.strip()]




def matches(alert: Alert, min_severity: str, brands: Union[str, Iterable[str], None] = ()) -> bool:
    """True when `alert` should be sent: its severity is at least `min_severity` (low < medium < high < critical)
    and, when `brands` is not empty, its brand is one of them (case-insensitive; an alert without brand is then
    not sent). An unknown severity on either side never matches."""
    wanted = severity_rank(min_severity)
    if wanted < 0 or severity_rank(alert.severity) < wanted:
        return False
    allowed = {b.lower() for b in split_list(brands)}
    return not allowed or (alert.brand or "").strip().lower() in allowed


def endpoint_label(url: str) -> str:
    """scheme://host[:port] of a webhook URL: what logs may show (the path and query often hold a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _retry_after(response: aiohttp.ClientResponse) -> Optional[float]:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date (rare for webhooks): fall back to our own backoff


class WebhookDispatcher(Service):
    """Bounded queue of alerts → concurrent deliveries to every configured URL, with retries.

    `offer(alert)` is safe to call before the service has started (alerts wait in the queue)."""

    def __init__(self, settings: Settings, *, urls: Optional[Iterable[str]] = None, queue_size: int = 1000,
                 concurrency: int = 4, timeout: float = 10.0, backoff_base: float = 0.5, backoff_max: float = 30.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = split_list(settings.webhook_urls) if urls is None else split_list(urls)
        self.max_attempts = max(1, settings.webhook_max_retries)
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=queue_size)
        self.concurrency = concurrency
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._session: Optional[aiohttp.ClientSession] = None
        self._last_overflow_log = 0.0
        self._overflowed = 0

    # --- producer side: never blocks -------------------------------------------------------------------------
    def offer(self, alert: Alert) -> bool:
        """Queue `alert` for delivery; False (counted as failed, logged at most every 10 s) when the queue is full."""
        try:
            self.queue.put_nowait(alert)
            return True
        except asyncio.QueueFull:
            metrics.WEBHOOK_DELIVERIES.labels(FAILED).inc(len(self.urls))
            self._overflowed += 1
            now = time.monotonic()
            if now - self._last_overflow_log >= 10.0:
                log.warning("webhook queue full (%d alerts): dropped %d alert(s), latest %s",
                            self.queue.maxsize, self._overflowed, alert.alert_id)
                self._last_overflow_log, self._overflowed = now, 0
            return False

    # --- lifecycle ---------------------------------------------------------------------------------------------
    async def on_start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                              headers={"User-Agent": "socialpulse-webhooks/1"})
        for _ in range(self.concurrency):
            self.add_future(self._deliver_queued())

    async def on_stop(self) -> None:
        if not self.queue.empty():
            log.warning("webhook dispatcher stopping with %d undelivered alert(s)", self.queue.qsize())
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_queued(self) -> None:
        while not self.should_stop:
            alert = await self.queue.get()
            try:
                await self.deliver(alert)
            finally:
                self.queue.task_done()

    # --- delivery ----------------------------------------------------------------------------------------------
    async def deliver(self, alert: Alert) -> dict[str, str]:
        """POST `alert` to every URL concurrently; returns {url: 'delivered' | 'failed'}."""
        body = encode(alert)
        outcomes = await asyncio.gather(*(self._post(url, body, alert.alert_id) for url in self.urls))
        return dict(zip(self.urls, outcomes))

    async def _post(self, url: str, body: bytes, alert_id: str) -> str:
        """Deliver one body to one URL with retries; counts every outcome; returns 'delivered' or 'failed'."""
        assert self._session is not None, "WebhookDispatcher is not started"
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert_id}
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            wait: Optional[float] = None
            try:
                async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        metrics.WEBHOOK_DELIVERIES.labels(DELIVERED).inc()
                        if attempt > 1:
                            log.info("webhook %s delivered %s after %d attempts", endpoint_label(url), alert_id,
                                     attempt)
                        return DELIVERED
                    problem = f"HTTP {resp.status}"
                    if resp.status != 429 and resp.status < 500:
                        break  # the endpoint refused this request: sending it again cannot help
                    wait = _retry_after(resp)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                problem = type(exc).__name__
            if attempt < self.max_attempts:
                metrics.WEBHOOK_DELIVERIES.labels(RETRY).inc()
                await asyncio.sleep(self._backoff(attempt) if wait is None else min(wait, self.backoff_max))
        metrics.WEBHOOK_DELIVERIES.labels(FAILED).inc()
        log.warning("webhook %s failed for %s after %d attempt(s): %s", endpoint_label(url), alert_id, attempt,
                    problem)
        return FAILED

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter in its upper half: base·2^(attempt-1)·[0.5, 1], capped."""
        delay = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return delay * random.uniform(0.5, 1.0)
