"""The batch completer (ordering, backpressure, failure) and the detect stage's per-batch table writes."""
from __future__ import annotations

import asyncio

import pytest

from pipeline.runtime.outbox import Completer


class RecordingStream:
    """What the completer needs of a Faust stream: `ack`. Records the order of the acks."""

    def __init__(self) -> None:
        self.acked: list[str] = []

    async def ack(self, event: str) -> bool:
        self.acked.append(event)
        return True


def run(coro):
    return asyncio.run(coro)


def completer_with(n_futures: int, depth: int = 4) -> tuple[RecordingStream, Completer, list[asyncio.Future]]:
    """A completer over a recording stream and `n_futures` pending delivery futures (call inside the loop)."""
    stream = RecordingStream()
    loop = asyncio.get_running_loop()
    return stream, Completer(stream, depth), [loop.create_future() for _ in range(n_futures)]


def test_batches_complete_in_order_even_when_a_later_batch_is_acknowledged_first():
    async def scenario():
        stream, c, (first, second) = completer_with(2)
        log: list[str] = []

        def then(name):
            async def follow():
                log.append(name)
                return []
            return follow

        await c.submit(["a1", "a2"], [first], then("changelog-a"))
        await c.submit(["b1"], [second], then("changelog-b"))
        second.set_result(None)  # the broker acknowledged batch b first
        await asyncio.sleep(0.01)
        assert stream.acked == [] and log == []  # b waits for a
        first.set_result(None)
        await asyncio.sleep(0.01)
        c.close()
        return stream.acked, log

    acked, log = run(scenario())
    assert acked == ["a1", "a2", "b1"]
    assert log == ["changelog-a", "changelog-b"]


def test_follow_up_is_sent_only_after_the_outputs_and_events_acked_only_after_it():
    async def scenario():
        stream, c, (output, changelog) = completer_with(2)
        sent: list[str] = []

        async def follow():
            sent.append("changelog")
            return [changelog]

        await c.submit(["e"], [output], follow)
        await asyncio.sleep(0.01)
        assert sent == []
        output.set_result(None)
        await asyncio.sleep(0.01)
        assert sent == ["changelog"] and stream.acked == []
        changelog.set_result(None)
        await asyncio.sleep(0.01)
        c.close()
        return stream.acked

    assert run(scenario()) == ["e"]


def test_a_failed_send_stops_acking_and_the_next_submit_raises_it():
    async def scenario():
        stream, c, (failed, later) = completer_with(2)
        await c.submit(["x"], [failed])
        failed.set_exception(RuntimeError("broker said no"))
        later.set_result(None)
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError, match="broker said no"):
            await c.submit(["y"], [later])
        return stream.acked

    assert run(scenario()) == []


def test_submit_blocks_when_depth_batches_are_waiting():
    async def scenario():
        _, c, (gate,) = completer_with(1, depth=1)
        await c.submit(["1"], [gate])  # taken by the task
        await asyncio.sleep(0)
        await c.submit(["2"], [])  # fills the queue
        third = asyncio.ensure_future(c.submit(["3"], []))
        await asyncio.sleep(0.01)
        blocked = not third.done()
        gate.set_result(None)
        await asyncio.wait_for(third, 1)
        c.close()
        return blocked

    assert run(scenario()) is True


def test_table_batch_decodes_once_and_writes_one_changelog_record_per_key():
    from types import SimpleNamespace

    from pipeline.codec import decoder, encode
    from pipeline.domain.escalation import CustomerHistory
    from agents.detect import TableBatch

    store = {b"c1": encode(CustomerHistory(seen=["a"])), b"gone": encode(CustomerHistory())}
    batch = TableBatch(SimpleNamespace(data=store), decoder(CustomerHistory))
    h = batch.get(b"c1")
    batch.set(b"c1", CustomerHistory(seen=h.seen + ["b"]), 3)
    batch.set(b"c1", CustomerHistory(seen=batch.get(b"c1").seen + ["c"]), 3)  # read back the batch's own write
    batch.set(b"gone", None, 1)
    assert batch.get(b"new") is None
    records = batch.apply()
    assert records == [(b"c1", encode(CustomerHistory(seen=["a", "b", "c"])), 3), (b"gone", None, 1)]
    assert store == {b"c1": encode(CustomerHistory(seen=["a", "b", "c"]))}
    assert batch.apply() == []  # a batch's changes are applied once





def test_a_failed_completer_is_reported_at_once_not_at_the_next_submit():
    """Supervision: the failure reaches `on_failure` (the worker's /health) while the agent waits for input."""
    async def scenario():
        stream = RecordingStream()
        failures: list[BaseException] = []
        c = Completer(stream, on_failure=failures.append)
        delivery = asyncio.get_running_loop().create_future()
        await c.submit(["e1"], [delivery])
        delivery.set_exception(ConnectionError("broker gone"))
        await asyncio.sleep(0.01)  # no further submit
        c.close()
        return stream.acked, failures

    acked, failures = run(scenario())
    assert acked == []  # never acked: redelivered after a restart
    assert [type(f) for f in failures] == [ConnectionError]


def test_health_names_the_failed_part():
    from pipeline.runtime.app import Health

    h = Health()
    h.reporter("detect")(TimeoutError("no ack in 30 s"))
    assert h.failures == {"detect": "TimeoutError: no ack in 30 s"}
