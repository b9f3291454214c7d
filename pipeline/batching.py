"""Micro-batches on the internal topics (pure).

Every Kafka message costs faust-streaming a fixed amount of work on the way out (topic.send → producer) and on the
way in (conductor → stream → ack), far more than scoring a mention. The internal hops (`mentions.by_customer`,
`mentions.negative_by_brand`) therefore carry one message per *target partition and batch* instead of one per
mention: the first stage groups what it scored by the partition the record's key hashes to and sends each group as
one message to exactly that partition. The receiving agent iterates the group inside the message's event, so its
table updates land in the right changelog partition (the message's partition *is* the key's partition).

Public topics (`mentions.enriched`, `alerts.complaints`, …) stay one record per message: other services read them.

Format: header `sp-kind: batch`, value = a JSON array of the records' own JSON documents (byte-for-byte, so they
are forwarded without re-encoding).
"""
from __future__ import annotations

from typing import Iterable, Sequence, TypeVar

import msgspec
from aiokafka.partitioner import murmur2

T = TypeVar("T")

KIND_HEADER = "sp-kind"
BATCH = b"batch"

#: Payload per batch message; the internal topics accept 4 MiB records (pipeline.topics), so one oversized
#: mention (≤ ~1.1 MiB raw, see pipeline.ingest.MAX_RAW_BYTES) still fits in a batch of its own.
MAX_BATCH_BYTES = 1 << 20

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(list[msgspec.Raw])


def partition_for(key: bytes, partitions: int) -> int:
    """The partition the producers' default partitioner (Java's and aiokafka's: murmur2) picks for `key`."""
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def group_by_partition(items: Iterable[tuple[bytes, T]], partitions: int) -> dict[int, list[T]]:
    """(key, item) pairs → {partition: [items in input order]}."""
    groups: dict[int, list[T]] = {}
    for key, item in items:
        groups.setdefault(partition_for(key, partitions), []).append(item)
    return groups


def chunk_by_size(documents: Sequence[bytes], max_bytes: int = MAX_BATCH_BYTES) -> list[list[bytes]]:
    """Split documents into runs whose total size stays under `max_bytes` (a document larger than that on its
    own gets a run of its own): a batch must fit the topic's record limit."""
    chunks: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for doc in documents:
        if current and size + len(doc) + 1 > max_bytes:
            chunks.append(current)
            current, size = [], 0
        current.append(doc)
        size += len(doc) + 1
    if current:
        chunks.append(current)
    return chunks


def encode_batch(documents: Sequence[bytes]) -> bytes:
    """JSON documents (each already encoded) → one JSON array, without re-encoding them."""
    return _encoder.encode([msgspec.Raw(d) for d in documents])


def decode_batch(value: bytes) -> list[bytes]:
    """The inverse of `encode_batch`: the documents' bytes, as they were encoded."""
    return [bytes(raw) for raw in _decoder.decode(value)]
