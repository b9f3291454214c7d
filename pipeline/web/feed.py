"""The live side of the dashboard: a Kafka tail of alerts.complaints and alerts.actions (`AlertFeed`) fanned out
to every connected page (`Subscriber`, one bounded queue each) as Server-Sent Events (`sse_event`), and the
/api/stream handler: a `snapshot` from ClickHouse on connect, then `alert` and `action` events as they arrive.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, NamedTuple, Optional, Protocol, Sequence

import msgspec
from aiohttp import web
from mode import Service

from pipeline import metrics
from pipeline.codec import decoder, encode
from pipeline.contract import topics
from pipeline.contract.records import Alert, AlertAction
from pipeline.settings import Settings
from pipeline.web.api import FEED, SNAPSHOT_LIMIT, action_view, alert_view, fetch_snapshot
from pipeline.web.auth import SESSION, still_authorized

log = logging.getLogger(__name__)

SSE_KEEPALIVE_SECONDS = 15.0
#: How often an idle stream looks whether its page is still connected and still signed in.
SSE_POLL_SECONDS = 1.0
SSE_CLIENT_QUEUE = 1000
#: Alert ids seen on alerts.complaints that an ack may name before the sink wrote them to ClickHouse.
RECENT_ALERTS = 10_000
#: (topic, key, value) of one record to produce (`LiveFeed.send_many`).
OutRecord = tuple[str, Optional[bytes], bytes]


class AlertRef(NamedTuple):
    """What a verdict on an alert seen live needs before the sink wrote the alert (the columns of ALERT_REF_SQL)."""

    type: str
    mention_id: str
    customer_id: str
    brand: str
    channel: str

    @classmethod
    def of(cls, alert: Alert) -> "AlertRef":
        return cls(alert.type, alert.mention_id, alert.customer_id, alert.brand or "", alert.channel)


def sse_event(name: str, payload: Any) -> bytes:
    """One Server-Sent Event; JSON never contains a raw newline, so one `data:` line is enough."""
    return b"event: " + name.encode() + b"\ndata: " + encode(payload) + b"\n\n"


# --- the Kafka side ----------------------------------------------------------------------------------------------

class Subscriber:
    """One connected page: a bounded queue of encoded SSE events. `closed` when it fell too far behind."""

    def __init__(self, maxsize: int = SSE_CLIENT_QUEUE) -> None:
        self.queue: asyncio.Queue[Optional[bytes]] = asyncio.Queue(maxsize=maxsize)
        self.closed = False

    def push(self, event: Optional[bytes]) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A page that stopped reading: end its stream; EventSource reconnects and gets a fresh snapshot.
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class LiveFeed(Protocol):
    """What the web app needs from the Kafka side (AlertFeed; tests pass a stand-in)."""

    ready: asyncio.Event

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def subscribe(self) -> Subscriber: ...
    def unsubscribe(self, sub: Subscriber) -> None: ...
    def close_all(self) -> None: ...
    async def send_action(self, action: AlertAction) -> None: ...
    async def send_many(self, records: Sequence[OutRecord]) -> None: ...


class FanOut:
    """The connected pages: every published event reaches every subscriber (one bounded queue each)."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._recent: dict[str, Optional[AlertRef]] = {}

    def remember(self, alert_id: str, ref: Optional[AlertRef] = None) -> None:
        """An alert seen live (the last RECENT_ALERTS are kept): `knows` it (and `recall`s `ref`) before ClickHouse
        has it."""
        self._recent[alert_id] = ref
        if len(self._recent) > RECENT_ALERTS:
            del self._recent[next(iter(self._recent))]

    def knows(self, alert_id: str) -> bool:
        return alert_id in self._recent

    def recall(self, alert_id: str) -> Optional[AlertRef]:
        return self._recent.get(alert_id)

    def subscribe(self) -> Subscriber:
        sub = Subscriber()
        self._subscribers.add(sub)
        metrics.DASHBOARD_CLIENTS.set(len(self._subscribers))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)
        metrics.DASHBOARD_CLIENTS.set(len(self._subscribers))

    def close_all(self) -> None:
        """End every page's stream (server shutdown)."""
        for sub in list(self._subscribers):
            sub.push(None)

    def publish(self, event: bytes) -> None:
        for sub in list(self._subscribers):
            sub.push(event)


class AlertFeed(FanOut, Service):
    """Follows alerts.complaints and alerts.actions from the latest offsets in its own consumer group
    (`<app_id>-dashboard-<random>`, never committed) and fans every message out to the connected pages;
    produces the pages' actions to alerts.actions (key = alert id). `ready` is set once partitions are assigned
    and positioned, i.e. every alert produced from then on reaches the pages."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        FanOut.__init__(self)
        Service.__init__(self, **kwargs)
        self.s = settings
        self.group_id = f"{settings.app_id}-dashboard-{secrets.token_hex(4)}"
        self.ready = asyncio.Event()
        self._consumer: Any = None
        self._producer: Any = None
        self._dec_alert, self._dec_action = decoder(Alert), decoder(AlertAction)

    async def send_action(self, action: AlertAction) -> None:
        # key: the alert id; a verdict on a mention without an alert has none and is keyed by the mention id
        key = action.alert_id or action.mention_id or ""
        await self._producer.send_and_wait(topics.ACTIONS, key=key.encode(), value=encode(action))

    async def send_many(self, records: Sequence[OutRecord]) -> None:
        """Produce every (topic, key, value) in order; returns once the broker acknowledged all of them (acks=all),
        raises the first failure (some records may have been written: the caller retries the whole)."""
        pending: list[asyncio.Future] = []
        try:
            for topic, key, value in records:
                pending.append(await self._producer.send(topic, value=value, key=key))
        finally:  # every future awaited, also after a failed send: no "exception never retrieved"
            results = await asyncio.gather(*pending, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        from pipeline.adapters.kafka.config import aiokafka_config

        cfg = aiokafka_config(self.s)
        # max_request_size: a mention of up to MAX_RAW_BYTES posted to /api/mentions, or its dead letter
        producer = AIOKafkaProducer(**cfg, acks="all", request_timeout_ms=10_000, max_request_size=4 << 20)
        consumer = AIOKafkaConsumer(topics.ALERTS, topics.ACTIONS, **cfg, group_id=self.group_id,
                                    auto_offset_reset="latest", enable_auto_commit=False)
        try:
            await producer.start()
            await consumer.start()
        except BaseException:
            await consumer.stop()
            await producer.stop()
            raise
        self._producer, self._consumer = producer, consumer
        self.add_future(self._follow())

    async def on_stop(self) -> None:
        self.close_all()
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()

    async def _follow(self) -> None:
        invalid = metrics.STAGE_MESSAGES.labels("dashboard", "invalid")
        while not self.should_stop:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=1000)
                if not self.ready.is_set():
                    assigned = self._consumer.assignment()
                    if assigned:
                        for tp in assigned:  # resolves "latest" now, so nothing produced after `ready` is missed
                            await self._consumer.position(tp)
                        self.ready.set()
                        log.info("dashboard feed live on %d partitions", len(assigned))
                for tp, records in batches.items():
                    for r in records:
                        try:
                            if tp.topic == topics.ALERTS:
                                alert = self._dec_alert.decode(r.value)
                                self.remember(alert.alert_id, AlertRef.of(alert))
                                self.publish(sse_event("alert", alert_view(alert)))
                            else:
                                self.publish(sse_event("action", action_view(self._dec_action.decode(r.value))))
                        except (msgspec.MsgspecError, TypeError):
                            invalid.inc()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep following; aiokafka reconnects by itself
                log.warning("dashboard feed: %s: %s", type(exc).__name__, exc)
                await self.sleep(1.0)


# --- /api/stream -------------------------------------------------------------------------------------------------

class StreamLimits:
    """The open live streams: at most `total` at once and `per_client` per client address (counted before the
    snapshot query runs), and the session each belongs to, so signing out or a new token ends them."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total, self.per_client = total, per_client
        self._open: dict[Subscriber, tuple[str, Optional[str]]] = {}
        self._per_client: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._open)

    def refusal(self, client: str) -> Optional[str]:
        """Why a new stream from `client` is refused (None: it is not)."""
        if len(self._open) >= self.total:
            return (f"the dashboard serves at most {self.total} live streams at once "
                    "(SOCIALPULSE_DASHBOARD_MAX_STREAMS): close pages you do not use, or retry later")
        if self._per_client.get(client, 0) >= self.per_client:
            return (f"{self.per_client} live streams are already open from this address "
                    "(SOCIALPULSE_DASHBOARD_MAX_STREAMS_PER_CLIENT): close other dashboard tabs")
        return None

    def add(self, sub: Subscriber, client: str, sid: Optional[str]) -> None:
        self._open[sub] = (client, sid)
        self._per_client[client] = self._per_client.get(client, 0) + 1

    def remove(self, sub: Subscriber) -> None:
        entry = self._open.pop(sub, None)
        if entry is not None:
            left = self._per_client[entry[0]] - 1
            if left:
                self._per_client[entry[0]] = left
            else:
                del self._per_client[entry[0]]

    def end_session(self, sid: str) -> None:
        for sub, (_, owner) in list(self._open.items()):
            if owner == sid:
                sub.push(None)

    def end_all(self) -> None:
        for sub in list(self._open):
            sub.push(None)


STREAMS = web.AppKey("streams", StreamLimits)


async def stream(request: web.Request) -> web.StreamResponse:
    feed: LiveFeed = request.app[FEED]
    limits = request.app[STREAMS]
    client = request.remote or "unknown"
    refused = limits.refusal(client)
    if refused:
        return web.json_response({"error": refused}, status=503, headers={"Retry-After": "30"})
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                       "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"})
    sub = feed.subscribe()  # before the snapshot: an alert arriving meanwhile is queued, not lost
    session = request.get(SESSION)
    limits.add(sub, client, session.sid if session is not None else None)
    announce: Optional[asyncio.Future] = None
    try:
        await resp.prepare(request)
        await resp.write(b"retry: 3000\n\n")
        try:
            snapshot: dict[str, Any] = {"alerts": await fetch_snapshot(request.app, SNAPSHOT_LIMIT)}
        except Exception as exc:  # noqa: BLE001
            log.warning("dashboard snapshot failed: %s", type(exc).__name__)
            snapshot = {"alerts": [], "error": "ClickHouse unavailable: showing live alerts only"}
        snapshot["live"] = feed.ready.is_set()
        await resp.write(sse_event("snapshot", snapshot))
        if not snapshot["live"]:  # tell the page when the feed has joined (a second or two after start)
            announce = asyncio.ensure_future(_announce_live(feed, sub))
        idle = 0.0
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), SSE_POLL_SECONDS)
                idle = 0.0
            except asyncio.TimeoutError:
                event, idle = b"", idle + SSE_POLL_SECONDS
            if event is None or request.transport is None or request.transport.is_closing():
                break  # ended (shutdown, a slow page, a sign-out), or the page went away: its slot is free now
            if not still_authorized(request):
                break  # expired, signed out or a new token: EventSource reconnects and gets its 401
            if not event:
                if idle < SSE_KEEPALIVE_SECONDS:
                    continue
                event, idle = b": keepalive\n\n", 0.0
            await resp.write(event)
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        limits.remove(sub)
        feed.unsubscribe(sub)
        if announce is not None:
            announce.cancel()
    return resp


async def _announce_live(feed: LiveFeed, sub: Subscriber) -> None:
    await feed.ready.wait()
    sub.push(sse_event("live", {"live": True}))
