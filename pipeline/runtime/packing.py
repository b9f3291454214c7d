"""Packed internal hops: many records in one Kafka message per (target partition, batch) (pure).

The internal topics `mentions.by_customer` and `mentions.negative_by_brand` carry, per batch of the stage that
produces them, one message per target partition holding every record for that partition. The partition is the one
Kafka's default partitioner gives the record's key (murmur2, as the Java client and aiokafka compute it), so a
record lands where it would have landed alone and the detect stage's table stays co-partitioned with the keys it
holds. The message is a small versioned msgpack envelope; its kind is in the `sp-kind` header.

Why: a consumed record costs faust ~60 µs of per-record machinery; a packed message pays that once for hundreds
of records (docs/benchmarks.md)."""
from __future__ import annotations

import struct
from typing import Iterable, Optional

import msgspec

KIND_HEADER = "sp-kind"
PACKED = b"packed"  # many mentions (by_customer) or negative mentions (negative_by_brand), see Envelope
LINK = b"link"      # by_customer: a prospect's handle joined a customer (value: the customer id)
LINKS = b"links"    # by_customer: packed LINK records (key: prospect id, value: customer id)
MERGE = b"merge"    # by_customer: a prospect's history moving to its customer (value: the history)
SOURCED = b"packed-src"  # negative_by_brand: packed negative mentions, each value prefixed by its source
VERSION = 1
MAX_PACKED_BYTES = 1 << 20  # one packed message stays well below the topics' max.message.bytes (4 MiB)


_SOURCE = struct.Struct(">IQI")  # detect partition, offset, index in the packed message


def with_source(source: tuple[int, int, int], value: bytes) -> bytes:
    """A negative mention's value on `mentions.negative_by_brand`: its source (`pipeline.domain.spikes`) + the
    mention."""
    return _SOURCE.pack(*source) + value


def split_source(value: bytes) -> tuple[tuple[int, int, int], bytes]:
    """The inverse of `with_source`; PackError when the value is too short to hold a source."""
    if len(value) < _SOURCE.size:
        raise PackError("sourced record shorter than its source")
    return _SOURCE.unpack_from(value), value[_SOURCE.size:]


class Envelope(msgspec.Struct, array_like=True):
    """v1: [version, [[key, value], ...]]"""

    v: int
    records: list[tuple[bytes, bytes]]


_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(Envelope)


class PackError(ValueError):
    """A packed message that cannot be read (a foreign producer or an unknown envelope version)."""


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) as a signed 32-bit int."""
    length = len(data)
    m, r = 0x5BD1E995, 24
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = length % 4
    base = length - tail
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a keyed record (Java client, aiokafka, kafka-python)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def pack(records: list[tuple[bytes, bytes]]) -> bytes:
    return _enc.encode(Envelope(VERSION, records))


def unpack(value: Optional[bytes]) -> list[tuple[bytes, bytes]]:
    """The (key, value) records of a packed message; PackError if it is not one this version can read."""
    if value is None:
        raise PackError("packed message without a value")
    try:
        env = _dec.decode(value)
    except msgspec.DecodeError as exc:
        raise PackError(f"not a packed envelope: {exc}") from None
    if env.v != VERSION:
        raise PackError(f"packed envelope version {env.v} (this worker reads {VERSION}); upgrade the worker")
    return env.records


class Packer:
    """Groups one batch's records per target partition; `messages()` gives one packed value per partition (more
    when a partition's records exceed MAX_PACKED_BYTES)."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.groups: dict[int, list[tuple[bytes, bytes]]] = {}
        self.sizes: dict[int, int] = {}

    def add(self, key: bytes, value: bytes) -> None:
        p = partition_for(key, self.partitions)
        self.groups.setdefault(p, []).append((key, value))
        self.sizes[p] = self.sizes.get(p, 0) + len(key) + len(value) + 8

    def __len__(self) -> int:
        return sum(len(g) for g in self.groups.values())

    def messages(self) -> Iterable[tuple[int, bytes]]:
        """(partition, packed value) per target partition; the packer is empty afterwards."""
        groups, self.groups, self.sizes = self.groups, {}, {}
        for p in sorted(groups):
            chunk: list[tuple[bytes, bytes]] = []
            size = 0
            for key, value in groups[p]:
                if chunk and size + len(key) + len(value) > MAX_PACKED_BYTES:
                    yield p, pack(chunk)
                    chunk, size = [], 0
                chunk.append((key, value))
                size += len(key) + len(value) + 8
            if chunk:
                yield p, pack(chunk)
