"""Topic names (the public contract of ARCHITECTURE.md) and the one place that creates them."""
from __future__ import annotations

from dataclasses import dataclass

RAW = "mentions.raw"
IDENTITIES = "customers.identities"
BY_CUSTOMER = "mentions.by_customer"
ENRICHED = "mentions.enriched"
ALERTS = "alerts.complaints"
ACTIONS = "alerts.actions"
DEADLETTER = "mentions.deadletter"
#: Internal: negative mentions keyed by brand, for per-brand spike detection.
NEGATIVES = "mentions.negative_by_brand"


#: What the ClickHouse sink consumes, in its own consumer group (pipeline.runtime.sink).
SINK_TOPICS = (ENRICHED, ALERTS, ACTIONS, IDENTITIES)


def sink_group(app_id: str) -> str:
    """The sink's consumer group, beside the worker's faust group `app_id`."""
    return f"{app_id}-sink"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(partitions: int) -> list[TopicSpec]:
    """Every topic the project uses, with explicit partitions and configs. `mentions.raw` and
    `customers.identities` are co-partitioned (same count); `customers.identities` is compacted."""
    week_ms = str(7 * 24 * 3600 * 1000)
    month_ms = str(30 * 24 * 3600 * 1000)
    # The broker's default record limit (~1 MB) would refuse what docs/guarantees.md promises to dead-letter
    # ("message too large" above MAX_RAW_BYTES); the dead letter carries the original bytes (base64: 4/3).
    # `mentions.by_customer`, `mentions.enriched` and `mentions.negative_by_brand` carry the enriched mention, which
    # is slightly larger than the raw one it came from: they take what the DLQ takes.
    raw_max, dlq_max = str(2 << 20), str(4 << 20)
    return [
        TopicSpec(RAW, partitions, {"retention.ms": week_ms, "max.message.bytes": raw_max}),
        TopicSpec(IDENTITIES, partitions, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0",
                                           "delete.retention.ms": str(24 * 3600 * 1000)}),
        TopicSpec(BY_CUSTOMER, partitions, {"retention.ms": week_ms, "max.message.bytes": dlq_max}),
        TopicSpec(ENRICHED, partitions, {"retention.ms": week_ms, "max.message.bytes": dlq_max}),
        TopicSpec(ALERTS, partitions, {"retention.ms": month_ms}),
        TopicSpec(ACTIONS, partitions, {"retention.ms": month_ms}),
        TopicSpec(DEADLETTER, partitions, {"retention.ms": month_ms, "max.message.bytes": dlq_max}),
        TopicSpec(NEGATIVES, partitions, {"retention.ms": week_ms, "max.message.bytes": dlq_max}),
    ]


def ensure_topics(admin, partitions: int, replication_factor: int) -> list[str]:
    """Create the missing topics with kafka-python's admin client; return the names created.

    Existing topics are left as they are (a partition-count mismatch is reported by `check_topics`)."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    existing = set(admin.list_topics())
    wanted = [s for s in topic_specs(partitions) if s.name not in existing]
    if not wanted:
        return []
    try:
        admin.create_topics([NewTopic(s.name, s.partitions, replication_factor, topic_configs=s.config) for s in wanted])
    except TopicAlreadyExistsError:
        pass  # another process created them concurrently
    return [s.name for s in wanted]
