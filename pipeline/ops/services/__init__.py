"""Embedded infrastructure: the Apache Kafka broker and the ClickHouse server started by `socialpulse up`."""
