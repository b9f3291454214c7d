"""The running stack for integration tests: real Kafka, real ClickHouse, topics, migrations and one worker."""
from __future__ import annotations

import time
import uuid

import pytest

from pipeline.settings import Settings


@pytest.fixture(scope="session")
def running_stack(kafka_server, clickhouse_server, stack_settings):
    """`socialpulse up` against the session's servers; yields the Stack (worker running in the background)."""
    from pipeline.ops.stack import Stack

    stack = Stack(stack_settings)
    lines: list[str] = []
    stack.up(lines.append)
    yield stack
    stack.dashboard.terminate(10)
    stack.worker.terminate(30)


@pytest.fixture
def s(running_stack) -> Settings:
    return running_stack.s


@pytest.fixture
def brand() -> str:
    """A brand name unique to the test, so assertions only see the test's own rows."""
    return "b" + uuid.uuid4().hex[:10]


def produce(s: Settings, topic: str, items: list[tuple[bytes | None, bytes | None]], headers=None) -> None:
    from kafka import KafkaProducer

    from pipeline.adapters.kafka.config import kafka_python_config

    producer = KafkaProducer(**kafka_python_config(s), acks="all")
    try:
        for key, value in items:
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close()


def end_offsets(s: Settings, topic: str) -> dict[int, int]:
    """partition → end offset of `topic` now: pass as `start` to `consume_matching` to read only what comes next."""
    from kafka import KafkaConsumer, TopicPartition

    from pipeline.adapters.kafka.config import kafka_python_config

    consumer = KafkaConsumer(**kafka_python_config(s), group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def consume_matching(s: Settings, topic: str, predicate, expected: int, timeout: float = 60.0,
                     start: dict[int, int] | None = None) -> list:
    """Read `topic` from the beginning (or from the `start` offsets, see `end_offsets`) until `expected` records
    match `predicate(key, value)` (or timeout)."""
    from kafka import KafkaConsumer, TopicPartition

    from pipeline.adapters.kafka.config import kafka_python_config

    consumer = KafkaConsumer(**kafka_python_config(s), group_id=None, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(tps)
    if start is None:
        consumer.seek_to_beginning(*tps)
    else:
        for tp in tps:
            consumer.seek(tp, start.get(tp.partition, 0))
    found = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < expected:
            for records in consumer.poll(timeout_ms=300).values():
                found.extend(r for r in records if predicate(r.key, r.value))
        # a short extra read catches unexpected extra records (duplicates)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            for records in consumer.poll(timeout_ms=200).values():
                found.extend(r for r in records if predicate(r.key, r.value))
        return found
    finally:
        consumer.close()


def wait_for_rows(s: Settings, sql: str, params: dict, expected, timeout: float = 60.0):
    """Poll ClickHouse until `sql` returns `expected` (or timeout); returns the last result."""
    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    deadline = time.monotonic() + timeout
    try:
        while True:
            rows = c.execute(sql, params)
            if rows == expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.3)
    finally:
        c.disconnect()


@pytest.fixture
def dashboard(s):
    """The dashboard server in a thread on the shared stack, with a token of its own (`.url`, `.token`)."""
    import dataclasses

    from .dashboard_thread import DashboardThread

    token = "test-" + uuid.uuid4().hex
    d = DashboardThread(dataclasses.replace(s, dashboard_token=token), token)
    d.start()
    yield d
    d.stop()
