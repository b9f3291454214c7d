"""Kafka administration with kafka-python: topics, lag (I/O)."""
from __future__ import annotations

from typing import Optional

from pipeline.kafka_config import kafka_python_config
from pipeline.settings import Settings
from pipeline.topics import DEADLETTER, ensure_topics, topic_specs


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


def consumer_lag(s: Settings, group: Optional[str] = None) -> dict[str, int]:
    """Per topic: end offset minus the group's committed offset, summed over partitions (missing commit = 0)."""
    lag: dict[str, int] = {}
    for (topic, _), (done, end) in partition_offsets(s, group).items():
        lag[topic] = lag.get(topic, 0) + max(0, end - done)
    return lag


def partition_offsets(s: Settings, group: Optional[str] = None) -> dict[tuple[str, int], tuple[int, int]]:
    """Per (topic, partition) the group consumes: (committed offset, end offset); a missing commit counts as 0."""
    from kafka import KafkaConsumer, TopicPartition

    group = group or s.app_id
    admin = kafka_admin(s)
    consumer = KafkaConsumer(**kafka_python_config(s), group_id=None, enable_auto_commit=False)
    try:
        committed = admin.list_consumer_group_offsets(group)
        topics = ({tp.topic for tp in committed} | {spec.name for spec in topic_specs(s.partitions)}) - {DEADLETTER}
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        ends = consumer.end_offsets(tps)
        out: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in tps:
            meta = committed.get(tp)
            out[(tp.topic, tp.partition)] = (meta.offset if meta is not None and meta.offset >= 0 else 0,
                                             ends.get(tp, 0))
        return out
    finally:
        consumer.close()
        admin.close()
