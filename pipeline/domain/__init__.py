"""Pure domain logic: mentions, sentiment, identity, complaints, escalation, spikes, brands (no faust, Kafka or ClickHouse)."""
