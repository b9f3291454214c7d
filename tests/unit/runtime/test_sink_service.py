"""The sink service's pure parts: a batch's offset spans (its dedup token and its commit) and its consumer group."""
from __future__ import annotations

from collections import namedtuple

from pipeline.runtime.sink import offset_spans


def test_offset_spans_give_first_and_last_offset_per_partition():
    R = namedtuple("R", "topic partition offset")
    spans = offset_spans([R("a", 0, 5), R("a", 0, 3), R("a", 1, 9), R("b", 0, 1), R("a", 0, 7)])
    assert spans == {("a", 0): (3, 7), ("a", 1): (9, 9), ("b", 0): (1, 1)}


def test_the_sink_has_its_own_consumer_group():
    from pipeline.contract.topics import sink_group
    from pipeline.settings import Settings

    assert sink_group("acme") == "acme-sink"
