"""Fault tests: break the real worker, ClickHouse and Kafka mid-replay; nothing lost, nothing duplicated.

Figures (N, time to recover) are printed; run with `-s` to see them (docs/guarantees.md records a run)."""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import msgspec
import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.domain.identity import author_key
from pipeline.domain.mention import Rejected, decode_mention

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def synthetic_mentions(brand: str, n: int) -> list[tuple[bytes, bytes]]:
    """n valid mentions (a mix of the sample's texts and authors) re-branded and re-id'd for this test."""
    from pipeline.tools.sample.generator import iter_lines, sample_dir

    base = []
    for line in iter_lines(sample_dir() / "mentions.jsonl.gz"):
        try:
            d = msgspec.json.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError):
            continue
        try:
            decode_mention(line)  # the sample's deliberate junk is dead-lettered, not counted here
        except Rejected:
            continue
        base.append(d)
    out = []
    for i in range(n):
        d = dict(base[i % len(base)], id=f"{brand}-{i}", brand=brand)
        out.append((author_key(d["channel"], d["author"]).encode(), encode(d)))
    return out


class Producing(threading.Thread):
    """A producer thread whose failure fails the test (re-raised by join)."""

    def __init__(self, target) -> None:
        super().__init__(daemon=True)
        self._target_fn, self.error = target, None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def join(self, timeout=None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error
        assert not self.is_alive(), "producer still running"


def produce_in_background(s, items, rate: float = 0.0) -> Producing:
    from kafka import KafkaProducer

    from pipeline.adapters.kafka.config import kafka_python_config

    def run() -> None:
        # Retries cover a broker restart: the producer waits for the broker instead of dropping.
        producer = KafkaProducer(**kafka_python_config(s), acks="all", linger_ms=20, retries=2**31 - 1,
                                 retry_backoff_ms=500, request_timeout_ms=120000, max_block_ms=300000,
                                 delivery_timeout_ms=900000)
        started = time.monotonic()
        for i, (k, v) in enumerate(items):
            producer.send(topics.RAW, key=k, value=v)
            if rate:
                ahead = started + i / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        producer.flush()
        producer.close()

    t = Producing(run)
    t.start()
    return t


def counts(s, brand: str) -> tuple[int, int, int]:
    c = client(s)
    try:
        (final, unique), = c.execute("SELECT count(), uniqExact(mention_id) FROM mentions FINAL WHERE brand = %(b)s",
                                     {"b": brand})
        (alerts_final,), = c.execute("SELECT count() - uniqExact(alert_id) FROM alerts FINAL WHERE brand = %(b)s",
                                     {"b": brand})
        return final, unique, alerts_final
    finally:
        c.disconnect()


def assert_exactly_once(s, brand: str, n: int, what: str, since: float) -> None:
    """After a fault: all n mentions once in ClickHouse, no alert twice, every partition committed to its end
    within 60 s (a commit left behind for good is what faust's resume-before-seek race did, docs/guarantees.md)."""
    from pipeline.ops.drain import wait_drained

    wait_rows(s, brand, n, timeout=400)
    final, unique, dup_alerts = counts(s, brand)
    print(f"\n[fault] {what}; all {unique} rows after {time.monotonic() - since:.1f}s (count FINAL={final}, "
          f"uniqExact={unique}, duplicate alerts={dup_alerts})")
    assert final == unique == n
    assert dup_alerts == 0
    assert wait_drained(s, timeout=60) == {}


def wait_rows(s, brand: str, n: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if counts(s, brand)[1] >= n:
            return time.monotonic() - started
        time.sleep(0.5)
    return time.monotonic() - started


def rows_so_far(s, brand: str) -> int:
    return counts(s, brand)[1]


def test_worker_sigkill_mid_replay_loses_and_duplicates_nothing(running_stack, s):
    n = 50_000
    brand = "kill" + uuid.uuid4().hex[:6]
    producer = produce_in_background(s, synthetic_mentions(brand, n))
    deadline = time.monotonic() + 120
    while rows_so_far(s, brand) < 5_000 and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = running_stack.worker.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    at_kill = rows_so_far(s, brand)
    time.sleep(1)
    running_stack.start_worker()
    producer.join(300)
    assert_exactly_once(s, brand, n, f"SIGKILL worker at {at_kill}/{n} rows; restarted", killed_at)


def test_one_of_two_workers_sigkilled_mid_replay(running_stack, s, tmp_path):
    """A second worker joins the group mid-replay (a rebalance), is SIGKILLed (another one when its session
    expires); the survivor takes its partitions over: every mention exactly once, every partition committed."""
    import dataclasses
    import sys

    from pipeline.ops.services.process import ManagedProcess, free_port
    from pipeline.ops.stack import settings_env

    n = 40_000
    brand = "kill2w" + uuid.uuid4().hex[:6]
    s2 = dataclasses.replace(s, worker_port=free_port(), data_dir=tmp_path / "second")
    second = ManagedProcess("worker", tmp_path / "second" / "run")

    def ready() -> bool:
        import urllib.request

        with urllib.request.urlopen(f"http://{s2.worker_host}:{s2.worker_port}/health", timeout=2) as r:
            return r.status == 200

    producer = produce_in_background(s, synthetic_mentions(brand, n), rate=2500)
    second.launch([sys.executable, "-m", "pipeline.cli", "worker"], ready, timeout=120, env=settings_env(s2),
                  interval=0.3, failure="the second worker did not start")
    deadline = time.monotonic() + 120
    while rows_so_far(s, brand) < n // 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = second.pid()
    assert pid is not None
    at_kill = rows_so_far(s, brand)
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    producer.join(300)
    assert_exactly_once(s, brand, n, f"SIGKILL one of two workers at {at_kill}/{n} rows", killed_at)
    assert running_stack.worker.pid() is not None, "the surviving worker must keep running"


def test_clickhouse_down_30s_mid_replay(running_stack, s):
    n = 20_000
    brand = "chdown" + uuid.uuid4().hex[:6]
    worker_pid = running_stack.worker.pid()
    producer = produce_in_background(s, synthetic_mentions(brand, n), rate=2000)
    deadline = time.monotonic() + 60
    while rows_so_far(s, brand) < 2_000 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running_stack.clickhouse.stop()
    time.sleep(30)
    running_stack.clickhouse.start()
    producer.join(300)
    recover = wait_rows(s, brand, n, timeout=300)
    final, unique, _ = counts(s, brand)
    print(f"\n[fault] ClickHouse stopped 30s mid-replay; all {unique}/{n} rows {recover:.1f}s after it returned")
    assert final == unique == n
    assert running_stack.worker.pid() == worker_pid, "the worker must ride out a ClickHouse outage"
    from pipeline.ops.drain import wait_drained

    assert wait_drained(s, timeout=60) == {}


def test_kafka_broker_restart_mid_replay(running_stack, s):
    n = 20_000
    brand = "kdown" + uuid.uuid4().hex[:6]
    worker_pid = running_stack.worker.pid()
    first, second = synthetic_mentions(brand, n)[: n // 2], synthetic_mentions(brand, n)[n // 2:]
    produce_in_background(s, first).join(120)
    deadline = time.monotonic() + 60
    while rows_so_far(s, brand) < 2_000 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running_stack.kafka.stop()
    time.sleep(5)
    running_stack.kafka.start(timeout=120)
    back = time.monotonic()
    produce_in_background(s, second).join(300)
    wait_rows(s, brand, n, timeout=300)
    final, unique, _ = counts(s, brand)
    print(f"\n[fault] Kafka broker restarted mid-replay; all {unique}/{n} rows {time.monotonic() - back:.1f}s after")
    assert final == unique == n
    assert running_stack.worker.pid() == worker_pid, "the worker must ride out a broker restart"
    from pipeline.ops.drain import wait_drained

    assert wait_drained(s, timeout=60) == {}


def test_identity_table_rebuilt_after_worker_restart(running_stack, s, tmp_path):
    import json

    from pipeline.codec import decode
    from pipeline.contract.records import EnrichedMention
    from pipeline.ops.customers import load_customers
    from tests.integration.conftest import consume_matching, produce

    cid = "R-" + uuid.uuid4().hex[:8]
    handle = "rebuild_" + uuid.uuid4().hex[:6]
    crm = tmp_path / "crm.jsonl"
    crm.write_text(json.dumps({"customer_id": cid, "tier": "platinum", "lifetime_value": 50000,
                               "identities": [{"channel": "instagram", "handle": handle}]}) + "\n")
    load_customers(s, crm, progress=False)
    time.sleep(2)
    running_stack.worker.terminate(30)
    started = time.monotonic()
    running_stack.start_worker()
    ready = time.monotonic() - started
    mid = "rb-" + uuid.uuid4().hex[:8]
    produce(s, topics.RAW, [(f"instagram:{handle}".encode(),
                             encode({"id": mid, "channel": "instagram", "author": handle.upper(), "text": "hi"}))])
    got = consume_matching(s, topics.ENRICHED, lambda k, v: mid.encode() in v, 1, timeout=60)
    print(f"\n[fault] worker restarted, identity table ready in {ready:.1f}s (incl. process start)")
    assert got and decode(got[0].value, EnrichedMention).customer_id == cid
