"""Kafka administration with kafka-python: topics, lag (I/O)."""
from __future__ import annotations

from typing import Optional

from pipeline.adapters.kafka.config import kafka_python_config
from pipeline.contract.topics import ensure_topics
from pipeline.settings import Settings


def kafka_admin(s: Settings, timeout_ms: int = 10000):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**kafka_python_config(s), request_timeout_ms=timeout_ms, client_id="socialpulse-admin")


def ensure_kafka_topics(s: Settings) -> list[str]:
    """Create every project topic that is missing (explicit partitions and configs)."""
    admin = kafka_admin(s)
    try:
        return ensure_topics(admin, s.partitions, s.replication_factor)
    finally:
        admin.close()


def consumer_lag(s: Settings) -> dict[str, int]:
    """Per topic the pipeline consumes: end offset minus committed offset, summed over partitions (missing
    commit = 0). Topics read by the sink count with the sink's group, the others with the worker's."""
    lag: dict[str, int] = {}
    for (topic, _), (done, end) in partition_offsets(s).items():
        lag[topic] = lag.get(topic, 0) + max(0, end - done)
    return lag


def group_lag(s: Settings) -> dict[str, dict[str, int]]:
    """Consumer group → topic → messages not yet committed (the worker's faust group and the sink's)."""
    out: dict[str, dict[str, int]] = {}
    for group, offsets in group_offsets(s).items():
        lag = out.setdefault(group, {})
        for (topic, _), (done, end) in offsets.items():
            lag[topic] = lag.get(topic, 0) + max(0, end - done)
    return out


def consumer_groups(s: Settings) -> dict[str, list[str]]:
    """Consumer group → the topics it consumes: the faust worker's group and the sink's."""
    from pipeline.contract.topics import ALERTS, BY_CUSTOMER, IDENTITIES, NEGATIVES, RAW
    from pipeline.contract.topics import SINK_TOPICS, sink_group

    worker = [RAW, BY_CUSTOMER, NEGATIVES, IDENTITIES] + ([ALERTS] if s.webhook_urls else [])  # webhooks read alerts
    return {s.app_id: worker, sink_group(s.app_id): list(SINK_TOPICS)}


def group_offsets(s: Settings) -> dict[str, dict[tuple[str, int], tuple[int, int]]]:
    """Consumer group → (topic, partition) → (committed offset, end offset); a missing commit counts as 0."""
    from kafka import KafkaConsumer, TopicPartition

    admin = kafka_admin(s)
    consumer = KafkaConsumer(**kafka_python_config(s), group_id=None, enable_auto_commit=False)
    try:
        out: dict[str, dict[tuple[str, int], tuple[int, int]]] = {}
        for group, names in consumer_groups(s).items():
            committed = admin.list_consumer_group_offsets(group)
            tps = [TopicPartition(t, p) for t in names for p in (consumer.partitions_for_topic(t) or ())]
            ends = consumer.end_offsets(tps)
            offsets = out.setdefault(group, {})
            for tp in tps:
                meta = committed.get(tp)
                offsets[(tp.topic, tp.partition)] = (meta.offset if meta is not None and meta.offset >= 0 else 0,
                                                     ends.get(tp, 0))
        return out
    finally:
        consumer.close()
        admin.close()


def partition_offsets(s: Settings) -> dict[tuple[str, int], tuple[int, int]]:
    """Per (topic, partition) the pipeline consumes: (committed offset, end offset). A topic two groups read (the
    worker's and the sink's) counts with the group further behind."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for offsets in group_offsets(s).values():
        for key, (done, end) in offsets.items():
            if key not in out or done < out[key][0]:
                out[key] = (done, end)
    return out
