"""`socialpulse bench`'s latency phase: mentions at a steady rate, timed from produce to the alert on
`alerts.complaints` and to the row visible in ClickHouse (I/O)."""
from __future__ import annotations

import threading
import time
import uuid
from typing import Optional

import msgspec

from pipeline.settings import Settings


class Latency(msgspec.Struct):
    """Percentiles in ms; null when nothing was observed."""

    p50: Optional[float]
    p99: Optional[float]


def latency(values: list[float]) -> Latency:
    if not values:
        return Latency(None, None)
    return Latency(round(percentile(values, 50), 1), round(percentile(values, 99), 1))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def send_paced(producer, docs: list[dict], n: int, rate: float, id_prefix: str, brand: str,
               sent_at: Optional[dict[str, float]] = None, author_suffix: str = "") -> None:
    """Send `n` mentions at a steady `rate`/s, cycling through `docs` under ids `<id_prefix>-<i>` and `brand`,
    `created_at` left to the worker (time received). With `sent_at`, records mention id → send time. An
    `author_suffix` makes every author new (no alert cooldown from an earlier phase)."""
    from pipeline.codec import encode
    from pipeline.contract.topics import RAW
    from pipeline.domain.identity import author_key

    started = time.perf_counter()
    for i in range(n):
        d = dict(docs[i % len(docs)])
        d.update(id=f"{id_prefix}-{i}", brand=brand, created_at=None)
        if author_suffix and "@" not in d["author"]:  # an e-mail author stays a valid address
            d["author"] += author_suffix
        d = {k: v for k, v in d.items() if v is not None}
        ahead = started + i / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        if sent_at is not None:
            sent_at[f"{d['channel']}:{d['id']}"] = time.perf_counter()
        producer.send(RAW, key=author_key(d["channel"], d["author"]).encode(), value=encode(d))


def latency_run(s: Settings, docs: list[dict], rate: float, seconds: float, warmup_seconds: float):
    """Send `docs` (cycled, new ids) at `rate`/s: `warmup_seconds` unrecorded, then `seconds` recorded; return
    (alert latency, queryable latency) as `bench.Latency` percentiles in ms."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    from pipeline.adapters.clickhouse.client import client
    from pipeline.adapters.kafka.config import kafka_python_config
    from pipeline.codec import decode
    from pipeline.contract.records import Alert
    from pipeline.contract.topics import ALERTS

    latency_seconds = seconds
    brand = "lat" + uuid.uuid4().hex[:6]
    sent_at: dict[str, float] = {}
    alert_lat: list[float] = []
    query_lat: list[float] = []
    rows_seen: set[str] = set()
    stop = threading.Event()

    def watch_alerts() -> None:
        consumer = KafkaConsumer(**kafka_python_config(s), group_id=None, enable_auto_commit=False)
        tps = [TopicPartition(ALERTS, p) for p in consumer.partitions_for_topic(ALERTS) or ()]
        consumer.assign(tps)
        consumer.seek_to_end(*tps)
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=50).values():
                now = time.perf_counter()
                for r in records:
                    if brand.encode() in r.value:
                        a = decode(r.value, Alert)
                        t0 = sent_at.get(a.mention_id)
                        if t0 is not None:
                            alert_lat.append((now - t0) * 1000)
        consumer.close()

    def watch_rows() -> None:
        # Every insert makes a new immutable part: read only the rows of parts not seen yet (re-reading the
        # whole brand each poll would load the machine and distort what is being measured).
        qc = client(s)
        seen_parts: set[str] = set()
        while not stop.is_set():
            parts = {p for (p,) in qc.execute("SELECT DISTINCT _part FROM mentions WHERE brand = %(b)s",
                                              {"b": brand})} - seen_parts
            if parts:
                rows = qc.execute("SELECT mention_id FROM mentions WHERE brand = %(b)s AND _part IN %(p)s",
                                  {"b": brand, "p": tuple(parts)})
                now = time.perf_counter()
                seen_parts |= parts
                for (mid,) in rows:
                    if mid not in rows_seen:
                        rows_seen.add(mid)
                        t0 = sent_at.get(mid)
                        if t0 is not None:
                            query_lat.append((now - t0) * 1000)
            time.sleep(0.02)
        qc.disconnect()

    watchers = [threading.Thread(target=watch_alerts, daemon=True), threading.Thread(target=watch_rows, daemon=True)]
    for w in watchers:
        w.start()
    time.sleep(1.0)
    lat_producer = KafkaProducer(**kafka_python_config(s), acks=1, linger_ms=5)
    # Warm-up at the same rate, not recorded: a freshly started broker (JIT) and worker need tens of seconds of
    # steady traffic before latency settles; what ops see is the steady state.
    send_paced(lat_producer, docs, int(rate * warmup_seconds), rate, "warm" + brand, "warmup", None, brand)
    send_paced(lat_producer, docs, int(rate * latency_seconds), rate, brand, brand, sent_at, brand)
    lat_producer.flush()
    time.sleep(3.0)
    stop.set()
    for w in watchers:
        w.join(5)
    # Every mention becomes a row: one that has not arrived yet counts with the time it has waited so far (a
    # lower bound), so a worker that falls behind shows it instead of being measured on the lucky few.
    ended = time.perf_counter()
    query_lat.extend((ended - t0) * 1000 for mid, t0 in sent_at.items() if mid not in rows_seen)
    return latency(alert_lat), latency(query_lat)
