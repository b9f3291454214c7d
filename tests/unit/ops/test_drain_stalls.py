"""`socialpulse drain` reports a partition whose commit stops moving while the rest of the group commits."""
from __future__ import annotations

from pipeline.ops.drain import StallWatch, describe_stall

A, B = ("mentions.raw", 0), ("mentions.raw", 1)


def test_a_partition_that_does_not_move_while_others_do_is_reported_once():
    w = StallWatch(after=60)
    assert w.observe({A: (10, 100), B: (10, 100)}, 0) == []
    assert w.observe({A: (10, 100), B: (50, 100)}, 30) == []
    found = w.observe({A: (10, 100), B: (90, 100)}, 61)
    assert found == [(A, 10, 100, 61)]
    assert w.observe({A: (10, 100), B: (95, 100)}, 90) == []  # once
    assert "mentions.raw[0] committed at 10 of 100" in describe_stall(*found[0])


def test_an_idle_group_or_a_drained_partition_is_not_a_stall():
    w = StallWatch(after=60)
    w.observe({A: (10, 100), B: (100, 100)}, 0)
    assert w.observe({A: (10, 100), B: (100, 100)}, 120) == []  # nothing moved at all: the worker is down
    w.observe({A: (100, 100), B: (100, 100)}, 130)
    assert w.observe({A: (100, 100), B: (100, 100)}, 300) == []


def test_a_stalled_partition_that_moves_again_can_be_reported_again():
    w = StallWatch(after=10)
    w.observe({A: (1, 9), B: (1, 9)}, 0)
    w.observe({A: (1, 9), B: (2, 9)}, 5)
    assert w.observe({A: (1, 9), B: (3, 9)}, 11)
    w.observe({A: (2, 9), B: (4, 9)}, 12)
    w.observe({A: (2, 9), B: (5, 9)}, 15)
    assert w.observe({A: (2, 9), B: (6, 9)}, 23) == [(A, 2, 9, 11)]
