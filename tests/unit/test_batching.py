"""Micro-batches on the internal topics: partitioning must match the producers' own, documents survive unchanged."""
from __future__ import annotations

import json

import msgspec
import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from pipeline.batching import (MAX_BATCH_BYTES, chunk_by_size, decode_batch, encode_batch, group_by_partition,
                               partition_for)
from pipeline.codec import encode
from pipeline.records import ComplaintInfo, CustomerContext, EnrichedMention
from pipeline.sentiment import Sentiment


@given(st.binary(min_size=0, max_size=64), st.integers(min_value=1, max_value=64))
def test_partition_matches_aiokafka_and_kafka_python_default_partitioners(key, partitions):
    all_partitions = list(range(partitions))
    assert partition_for(key, partitions) == DefaultPartitioner()(key, all_partitions, all_partitions)
    assert partition_for(key, partitions) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % partitions


def test_partition_of_known_keys_is_javas():
    # Printed by Kafka 4.1.1's Java client: Utils.toPositive(Utils.murmur2(key.getBytes(UTF_8))) % 6.
    java = {"": 3, "C-1": 5, "prospect:twitter:@x": 1, "brand-acme": 3, "C-000042": 3}
    assert {k: partition_for(k.encode(), 6) for k in java} == java
    assert partition_for(b"C-1", 1) == 0


def test_partition_needs_a_positive_count():
    with pytest.raises(ValueError):
        partition_for(b"x", 0)


def test_group_by_partition_keeps_input_order_within_a_partition():
    items = [(f"C-{i % 7}".encode(), i) for i in range(200)]
    groups = group_by_partition(items, 6)
    assert sorted(i for g in groups.values() for i in g) == list(range(200))
    for partition, members in groups.items():
        assert members == sorted(members)
        assert all(partition_for(f"C-{i % 7}".encode(), 6) == partition for i in members)


@given(st.lists(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=20), st.none()),
                                max_size=4), max_size=30))
def test_batch_round_trip_is_byte_exact(docs):
    encoded = [json.dumps(d, ensure_ascii=False).encode() for d in docs]
    value = encode_batch(encoded)
    assert json.loads(value) == docs
    assert decode_batch(value) == encoded


def test_batch_of_enriched_mentions_decodes_to_the_same_records():
    m = EnrichedMention(mention_id="twitter:1", id="1", channel="twitter", author="@a", text="so bad \u2603 \"q\"",
                        created_at="2026-11-20T10:00:00Z", customer_id="C-1", is_prospect=False,
                        sentiment=Sentiment(compound=-0.6, pos=0.0, neu=0.4, neg=0.6, label="negative"),
                        customer=CustomerContext(tier="gold", lifetime_value=1200.0, influence=0.3),
                        complaint=ComplaintInfo(is_complaint=True, score=0.9, cues=["bad"]),
                        processed_at="2026-11-20T10:00:01Z")
    docs = [encode(m), encode(msgspec.structs.replace(m, mention_id="twitter:2", id="2"))]
    out = [msgspec.json.decode(d, type=EnrichedMention) for d in decode_batch(encode_batch(docs))]
    assert [o.mention_id for o in out] == ["twitter:1", "twitter:2"] and out[0] == m


def test_decode_batch_rejects_what_is_not_a_batch():
    with pytest.raises(msgspec.DecodeError):
        decode_batch(b'{"not": "a list"}')
    with pytest.raises(msgspec.DecodeError):
        decode_batch(b"[1, 2")


def test_chunks_respect_the_size_limit_and_keep_every_document_in_order():
    docs = [bytes([65 + i % 26]) * (100 + i) for i in range(300)]
    chunks = chunk_by_size(docs, 5_000)
    assert [d for c in chunks for d in c] == docs
    assert all(sum(len(d) + 1 for d in c) <= 5_000 for c in chunks)
    assert len(chunks) > 1


def test_an_oversized_document_gets_a_chunk_of_its_own():
    big = b"x" * (MAX_BATCH_BYTES + 10)
    assert chunk_by_size([b"a", big, b"b"]) == [[b"a"], [big], [b"b"]]
    assert chunk_by_size([]) == []
