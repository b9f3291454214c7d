"""Sinks: adapters that write the pipeline's records to external stores."""
from pipeline.sink.clickhouse import ClickHouseWriter, Outage, WriterStopped, batch_token, erase_customer

__all__ = ["ClickHouseWriter", "Outage", "WriterStopped", "batch_token", "erase_customer"]
