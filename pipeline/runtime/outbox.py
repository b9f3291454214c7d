"""Batched, acknowledged output of agent batches (I/O adapter over the worker's Kafka producer).

Faust's `Topic.send` costs a FutureMessage, a channel hop and a callback per record, and a Table write queues one
changelog record per write in a 100-record buffer; measured on this pipeline that was most of the CPU a mention
cost. Agents here consume in batches and send their outputs straight to the app's aiokafka producer (which batches
per partition itself). A `Completer` then finishes each batch in the background, in order: it waits until the
broker acknowledged the batch's outputs, sends what must only follow them (the changelog of the detect stage's
table) and waits for that too, and only then acks the batch's input events. The agent meanwhile processes the next
batch, so the produce round trips overlap with work instead of stalling the stage — and still no offset is
committed before everything its batch produced is durable."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Sequence

from pipeline.runtime import faust_compat
from pipeline.runtime.packing import KIND_HEADER, PACKED, pack

log = logging.getLogger(__name__)

Then = Callable[[], Awaitable[list[Any]]]


class Outbox:
    """Collects the sends of one batch (their delivery futures) until `take()`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pending: list[Any] = []

    async def send(self, topic: str, key: Optional[bytes], value: Optional[bytes], *, partition: Optional[int] = None,
                   headers: Optional[list[tuple[str, bytes]]] = None) -> None:
        self.pending.append(await self.app.producer.send(topic, key, value, partition, None, headers))

    def take(self) -> list[Any]:
        pending, self.pending = self.pending, []
        return pending


async def send_packed(out: Outbox, topic: str, packer: Any, forwarder: Any, marks: dict[int, float],
                      kind: bytes = PACKED) -> None:
    """A batch's packed messages (`pipeline.runtime.packing.Packer`) to `topic`, each carrying the watermark header of
    `marks`; partitions without records that have not heard `marks` yet get a record-less packed message with the
    header (`pipeline.runtime.watermarks.MarkForwarder`)."""
    used = set()
    for partition, value in packer.messages():
        used.add(partition)
        await out.send(topic, None, value, partition=partition,
                       headers=[(KIND_HEADER, kind)] + (forwarder.header(partition, marks) if marks else []))
    for partition in forwarder.silent(used, marks):
        await out.send(topic, None, pack([]), partition=partition,
                       headers=[(KIND_HEADER, kind)] + forwarder.header(partition, marks))


class Completer:
    """Finishes batches in submission order in one background task: outputs acknowledged → `then()` sent and
    acknowledged → input events acked. At most `depth` batches wait (backpressure on the agent). A failed send
    stops it; the next `submit` raises that error, the batch and the ones after it stay unacked and are
    redelivered after a restart."""

    def __init__(self, stream: Any, depth: int = 4, on_failure: Optional[Callable[[BaseException], None]] = None) -> None:
        self.stream = stream
        self.queue: asyncio.Queue = asyncio.Queue(depth)
        self.task: Optional[asyncio.Task] = None
        self.on_failure = on_failure

    async def submit(self, events: Sequence[Any], pending: list[Any], then: Optional[Then] = None) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
            self.task.add_done_callback(self._finished)
        if self.task.done():
            self.task.result()  # raises the send error that stopped it
        await self.queue.put((events, pending, then))

    async def _run(self) -> None:
        while True:
            events, pending, then = await self.queue.get()
            if pending:
                await asyncio.gather(*pending)
            if then is not None:
                follow = await then()
                if follow:
                    await asyncio.gather(*follow)
            for e in events:
                await self.stream.ack(e)

    def _finished(self, task: asyncio.Task) -> None:
        """Supervision: a failed completer is reported at once (the worker's /health turns 503), not only at the
        agent's next submit, which may never come on an idle stream."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("batch completer stopped: %s: %s (its batches stay unacked and are redelivered after a restart)",
                  type(task.exception()).__name__, task.exception())
        if self.on_failure is not None:
            self.on_failure(task.exception())

    def close(self) -> None:
        """Stop (worker shutdown): batches not finished stay unacked and are redelivered."""
        if self.task is not None:
            self.task.cancel()


async def available_batches(stream: Any, size: int) -> AsyncIterator[list[Any]]:
    """Batches of the events that are there: wait for one, then take every event already queued for the stream
    (at most `size`) without waiting for more. An idle stage hands over single events at once; a loaded one gets
    bigger batches by itself, because events queue up while it works. (faust's `take` instead always waits
    its whole `within` window unless the batch fills, which costs latency at every stage at moderate load.)
    Acks are left to the caller."""
    stream.enable_acks = False
    queue = faust_compat.stream_queue(stream)
    events = stream.events().__aiter__()
    try:
        while True:
            batch = [await events.__anext__()]
            while len(batch) < size and not queue.empty():
                batch.append(await events.__anext__())
            yield batch
    except StopAsyncIteration:  # the stream ended (worker stopping): events not yet handed over stay unacked
        return


async def completed_batches(stream: Any, size: int, on_failure: Optional[Callable[[BaseException], None]] = None
                            ) -> AsyncIterator[tuple[Sequence[Any], Completer]]:
    """Batches of events from `stream` (`available_batches`) for the loop body to process and `submit` to the
    completer; `on_failure` hears at once when the completer stops on an error (`Health.fail`)."""
    completer = Completer(stream, on_failure=on_failure)
    try:
        async for events in available_batches(stream, size):
            yield events, completer
    finally:
        completer.close()
