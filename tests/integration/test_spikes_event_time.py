"""Spike alerts in event time on the real servers: an 8-day stream with a steady baseline and four outage hours
gives exactly one spike alert per outage and no other — replayed in event-time order, and replayed with the
partitions drifting more than a day apart.

Runs on a stack of its own (Kafka, ClickHouse, worker): the spike stage's watermark follows every mention the
worker sees, and the session stack's other tests send mentions of the present time."""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.domain.mention import to_iso
from pipeline.runtime.packing import partition_for
from pipeline.settings import Settings
from tests.conftest import free_port
from tests.integration.conftest import consume_matching, wait_for_rows

pytestmark = pytest.mark.integration

HOURS = 8 * 24
BASELINE_PER_HOUR = 4          # negative mentions of each brand every hour
POSITIVE_PER_HOUR = 3
OUTAGE_COUNT = 60              # negative mentions in an outage hour
OUTAGES = {"x": (40, 130), "y": (75, 160)}  # brand → hours (from the stream's start) with an outage
NEGATIVE = ["this is terrible, the worst service ever", "awful, nothing works and I hate it",
            "horrible outage again, really bad"]
POSITIVE = ["love it, great job", "wonderful service, thank you", "really happy with the new update"]


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
    from pipeline.ops.services.embedded_kafka import EmbeddedKafka
    from pipeline.ops.stack import Stack

    s = Settings(data_dir=tmp_path_factory.mktemp("spikes-stack"), kafka_bootstrap=f"127.0.0.1:{free_port()}",
                 kafka_controller_port=free_port(), clickhouse_port=free_port(), clickhouse_http_port=free_port(),
                 worker_port=free_port(), dashboard_port=free_port(), partitions=4, sink_flush_interval=0.3)
    kafka, clickhouse = EmbeddedKafka(s), EmbeddedClickHouse(s)
    kafka.start(timeout=120)
    clickhouse.start()
    stack = Stack(s)
    try:
        stack.up(lambda _line: None)
        yield stack
    finally:
        stack.dashboard.terminate(10)
        stack.worker.terminate(30)
        clickhouse.stop()
        kafka.stop()


def stream(start: datetime, tag: str, brands: dict[str, str]) -> list[tuple[float, bytes, bytes]]:
    """(event time, key, value) of 8 days: per brand and hour a steady baseline, plus its outage hours."""
    out = []
    n = 0
    for short, brand in brands.items():
        for hour in range(HOURS):
            negatives = OUTAGE_COUNT if hour in OUTAGES[short] else BASELINE_PER_HOUR
            for k in range(negatives + POSITIVE_PER_HOUR):
                n += 1
                ts = start + timedelta(hours=hour, seconds=(k * 3571) % 3600)
                text = (NEGATIVE if k < negatives else POSITIVE)[n % 3]
                author = f"{tag}{n}"
                doc = {"id": f"{tag}-{n}", "channel": "twitter", "author": author, "brand": brand,
                       "text": f"@{brand} {text}", "created_at": to_iso(ts)}
                out.append((ts.timestamp(), f"twitter:{author}".encode(), json.dumps(doc).encode()))
    return out


def drifted(events, partitions: int, start: float) -> tuple[list, float]:
    """The same events in the order partitions drifting apart deliver them: partition k's event time advances
    1 + 0.15·k times slower, each partition still in event-time order. Returns (events, largest gap in seconds
    between two partitions' event times at one moment of delivery)."""
    def lane(e):
        return partition_for(e[1], partitions)

    order = sorted(events, key=lambda e: ((e[0] - start) * (1 + 0.15 * lane(e)), e[0]))
    latest: dict[int, float] = {}
    gap = 0.0
    for e in order:
        latest[lane(e)] = e[0]
        if len(latest) == partitions:
            gap = max(gap, max(latest.values()) - min(latest.values()))
    return order, gap


def produce(s: Settings, events, rate: float) -> None:
    from kafka import KafkaProducer

    from pipeline.adapters.kafka.config import kafka_python_config

    producer = KafkaProducer(**kafka_python_config(s), acks="all", linger_ms=5)
    try:
        began = time.monotonic()
        for i, (_, key, value) in enumerate(events):
            producer.send("mentions.raw", key=key, value=value)
            ahead = i / rate - (time.monotonic() - began)
            if ahead > 0.05:
                time.sleep(ahead)
        producer.flush()
    finally:
        producer.close()


def spike_hours(s: Settings, brand: str, start: datetime) -> list[int]:
    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    try:
            rows = c.execute("SELECT window_start FROM alerts FINAL WHERE type = 'spike' AND brand = %(b)s "
                         "ORDER BY window_start", {"b": brand})
    finally:
        c.disconnect()
    return [int((w.replace(tzinfo=timezone.utc) - start).total_seconds() // 3600) for (w,) in rows]


def test_same_spike_alerts_in_order_and_with_partitions_a_day_apart(own_stack):
    s = own_stack.s
    t0 = (datetime.now(timezone.utc) - timedelta(days=20)).replace(minute=0, second=0, microsecond=0)
    t1 = t0 + timedelta(days=9)
    run = uuid.uuid4().hex[:6]
    in_order = {k: f"io{run}{k}" for k in OUTAGES}
    apart = {k: f"da{run}{k}" for k in OUTAGES}
    first = sorted(stream(t0, f"a{run}", in_order))
    second, gap = drifted(stream(t1, f"b{run}", apart), s.partitions, t1.timestamp())
    assert gap > 24 * 3600, f"the drifted replay must put partitions more than a day apart (got {gap / 3600:.1f} h)"
    # One continuous replay (the second stream starts a day after the first ends): an input that went quiet for
    # longer than the idle timeout and came back with older events would be late by design (docs/alerts.md).
    produce(s, first + second, rate=600.0)
    total = len(first) + len(second)
    wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE startsWith(source_id, %(a)s) OR "
                     "startsWith(source_id, %(b)s)", {"a": f"a{run}-", "b": f"b{run}-"}, [(total,)], timeout=240)
    deadline = time.monotonic() + 60
    want = {k: sorted(v) for k, v in OUTAGES.items()}
    while True:
        got_in_order = {k: spike_hours(s, b, t0) for k, b in in_order.items()}
        got_apart = {k: spike_hours(s, b, t1) for k, b in apart.items()}
        if (got_in_order == want and got_apart == want) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert got_in_order == want, "in event-time order"
    assert got_apart == want, "with partitions drifting a day apart"
    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    try:
        rows = c.execute("SELECT brand, reasons[1], length(top_mentions), mention_id, top_mentions[1].1 FROM alerts "
                         "FINAL WHERE type = 'spike' AND brand IN %(b)s",
                         {"b": list(in_order.values()) + list(apart.values())})
    finally:
        c.disconnect()
    assert len(rows) == 8
    ours = {b.encode() for b in list(in_order.values()) + list(apart.values())}
    on_topic = consume_matching(s, "alerts.complaints", lambda _k, v: b'"type":"spike"' in v and
                                json.loads(v)["brand"].encode() in ours, expected=8, timeout=30)
    assert len(on_topic) == 8, "one spike alert per brand-hour on alerts.complaints, never a second"
    for brand, reason, top, mention_id, worst in rows:
        # raised as soon as the count crossed the threshold (baseline 4/h, σ 0, at least 20), not at the hour's end
        count = int(reason.split()[0])
        assert 20 <= count <= OUTAGE_COUNT and f"of {brand} on " in reason, reason
        assert top == 5 and mention_id == worst, brand
    dashboard_shows_spikes(own_stack, sorted(in_order.values()) + sorted(apart.values()))


def dashboard_shows_spikes(stack, brands: list[str]) -> None:
    """The stack's dashboard in a real Chromium: every spike is on the page with its hour's top mentions (spikes
    come first in the snapshot, so newer complaint alerts do not push them off the page)."""
    from tests.integration.test_dashboard_browser import signed_in_page

    with signed_in_page(stack.dashboard_url()) as page:
        cards = page.locator("article.alert", has=page.locator(".alert-top li"))
        cards.first.wait_for(timeout=30_000)
        assert cards.count() == 2 * len(brands)
        texts = " ".join(cards.all_inner_texts())
        for brand in brands:
            assert brand in texts
        assert cards.first.locator(".alert-top li").count() == 5

