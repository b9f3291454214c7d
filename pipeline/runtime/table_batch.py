"""One batch's reads and writes against a faust table, written back as one changelog record per key (I/O-free:
the caller sends the records). Only right for faust's in-memory store (`faust_compat.require_memory_store`)."""
from __future__ import annotations

from typing import Any, Optional

from pipeline.codec import encode


class TableBatch:
    """Reads and writes of one batch against a Faust table, written back as one changelog record per key.

    Values are kept decoded for the batch (a customer with many mentions in a batch is decoded and encoded once).
    Writes go to the in-memory store directly and to the changelog as records for the caller to send, with the
    partition of the event that caused them — the same partition Faust would use, and the one its recovery reads
    back."""

    def __init__(self, table: Any, dec: Any) -> None:
        self.table, self.dec = table, dec
        self.values: dict[bytes, Any] = {}
        self.dirty: dict[bytes, int] = {}  # key → partition

    def get(self, key: bytes) -> Optional[Any]:
        if key in self.values:
            return self.values[key]
        raw = self.table.data.get(key)
        value = None if raw is None else self.dec.decode(raw)
        self.values[key] = value
        return value

    def set(self, key: bytes, value: Optional[Any], partition: int) -> None:
        self.values[key] = value
        self.dirty[key] = partition

    def apply(self) -> list[tuple[bytes, Optional[bytes], int]]:
        """Write the batch's changes to the in-memory store; return them as changelog records
        (key, value or None for a delete, partition)."""
        store = self.table.data
        records = []
        for key, partition in self.dirty.items():
            value = self.values[key]
            if value is None:
                store.pop(key, None)
                records.append((key, None, partition))
            else:
                raw = encode(value)
                store[key] = raw
                records.append((key, raw, partition))
        self.values.clear()
        self.dirty.clear()
        return records
