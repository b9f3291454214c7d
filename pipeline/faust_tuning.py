"""Measured fixes to faust-streaming 0.15.3's consumer (pinned in pyproject; see docs/benchmarks.md).

1. faust hard-codes `fetch_max_wait_ms=1500` for its aiokafka consumer; one consumer fetches every topic of a
   worker, so each internal hop could sit out a long fetch. Capped here.
2. For every message its fetch loop ran `wait_first(on_message(msg), suspend_flow.wait())`: four new tasks, an
   `asyncio.wait` and three cancellations per record, only to be able to abandon a delivery blocked by a
   rebalance. In steady state `on_message` almost never blocks (only when the stream's queue is full or the
   producer buffer is high), so `FastDrainConsumer` runs it eagerly and races the rest against `suspend_flow`
   exactly as before only when it does block (+43 % mentions/s). While a rebalance is in progress faust's own
   path runs unchanged: faust resumes the stream partitions before it seeks them to their committed offsets, and
   a fetch loop that delivers the records of that window at full speed turned a small race in faust into lost
   messages (caught by the SIGKILL fault test: 2,511 and 16,334 of 50,000 mentions)."""
from __future__ import annotations

import asyncio
from typing import Any, Coroutine

from mode.services import WaitResults


def short_fetch_wait(max_wait_ms: int) -> None:
    """Cap faust's consumer `fetch_max_wait_ms` (faust offers no setting for it)."""
    import aiokafka
    from faust.transport.drivers import aiokafka as driver

    if getattr(driver.aiokafka, "_socialpulse_patched", False):
        return
    original = aiokafka.AIOKafkaConsumer

    class Consumer(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            if kwargs.get("fetch_max_wait_ms", 0) > max_wait_ms:
                kwargs["fetch_max_wait_ms"] = max_wait_ms
            super().__init__(*args, **kwargs)

    driver.aiokafka = type(aiokafka)("aiokafka_for_faust")
    driver.aiokafka.__dict__.update(aiokafka.__dict__, AIOKafkaConsumer=Consumer, _socialpulse_patched=True)


async def finish(coro: Coroutine[Any, Any, Any], awaiting: Any) -> Any:
    """Run a coroutine that was started by hand and is suspended on `awaiting` (what its first `send` yielded)
    to its end, as an asyncio Task would: wait for the future, resume it; deliver a cancellation into it."""
    while True:
        try:
            if awaiting is None:
                await asyncio.sleep(0)  # a bare yield
            else:
                awaiting._asyncio_future_blocking = False
                await asyncio.wait([awaiting])  # done, without consuming its result: the coroutine reads it
        except BaseException as exc:  # noqa: BLE001 - cancellation is delivered into the coroutine
            try:
                awaiting = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            awaiting = coro.send(None)
        except StopIteration as stop:
            return stop.value


def _consumer_class() -> type:
    from faust.transport.drivers.aiokafka import Consumer

    class FastDrainConsumer(Consumer):  # type: ignore[misc, valid-type]
        async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
            if (len(coros) != 2 or timeout is not None or not asyncio.iscoroutine(coros[0]) or self.app.rebalancing
                    or self.suspend_flow.is_set() or self._stopped.is_set() or self._crashed.is_set()):
                return await super().wait_first(*coros, timeout=timeout)
            first, other = coros  # on_message(msg), suspend_flow.wait(): the fetch loop's only two-way wait
            try:
                awaiting = first.send(None)
            except StopIteration as stop:  # finished without blocking: the usual case
                if asyncio.iscoroutine(other):
                    other.close()
                return WaitResults([first], [stop.value], False)
            return await super().wait_first(finish(first, awaiting), other, timeout=timeout)

    return FastDrainConsumer


def fast_transport(app: Any) -> Any:
    """The app's consumer transport with `FastDrainConsumer` (assign to `app.transport` before first use)."""
    from faust.transport.drivers.aiokafka import Transport

    class FastTransport(Transport):  # type: ignore[misc, valid-type]
        Consumer = _consumer_class()

    return FastTransport(app.conf.broker_consumer, app)
