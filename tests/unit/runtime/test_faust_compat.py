"""pipeline.runtime.faust_compat: the delivery gate's rules, the strict commit rule, and the version guard."""
from __future__ import annotations

import pytest

from pipeline.runtime import faust_compat
from pipeline.runtime.delivery import DELIVER, DROP, DUPLICATE, DeliveryGate, next_commit

TP = ("mentions.raw", 0)


def test_pinned_versions_are_installed():
    # Fails loudly when faust-streaming/aiokafka/mode change: re-verify faust_compat before moving the pins.
    assert faust_compat.installed_versions() == faust_compat.PINNED
    faust_compat.check_versions()


def test_check_versions_names_the_mismatch(monkeypatch):
    monkeypatch.setitem(faust_compat.PINNED, "aiokafka", "0.0.1")
    with pytest.raises(faust_compat.CompatError, match=r"aiokafka 0\.14\.0 \(pinned 0\.0\.1\)"):
        faust_compat.check_versions()


def test_records_fetched_before_the_seek_are_dropped_and_the_partition_sought_back():
    gate = DeliveryGate()
    gate.unsought([TP])
    assert gate.batch_epoch(TP) is None  # fetched in faust's resume-before-seek window
    assert gate.accept(TP, 100, None) == (DROP, None)
    assert gate.accept(TP, 101, None) == (DROP, None)
    # faust's seek is requested, then applied between two fetches: records dropped after faust's own seek are
    # fetched again from the committed offset
    gate.request_seek(TP, 90)
    assert gate.accept(TP, 90, gate.batch_epoch(TP)) == (DROP, None)
    assert gate.apply_seeks() == [(TP, 90)]
    assert gate.apply_seeks() == []
    epoch = gate.batch_epoch(TP)
    assert gate.accept(TP, 90, epoch) == (DELIVER, None)
    assert gate.floor(TP) == 90


def test_without_committed_offset_the_partition_is_sought_back_to_the_first_dropped_record():
    gate = DeliveryGate()
    gate.unsought([TP])
    gate.accept(TP, 7, None)
    gate.accept(TP, 5, None)
    assert gate.sought(TP, None) == 5
    assert gate.floor(TP) == 5
    assert gate.dropped == 2


def test_no_committed_offset_and_nothing_dropped_leaves_the_position_alone():
    gate = DeliveryGate()
    gate.unsought([TP])
    assert gate.sought(TP, None) is None
    assert gate.accept(TP, 42, gate.batch_epoch(TP)) == (DELIVER, None)
    assert gate.floor(TP) == 42


def test_a_batch_fetched_before_a_later_seek_is_dropped_at_delivery():
    gate = DeliveryGate()
    gate.sought(TP, 10)
    stale = gate.batch_epoch(TP)
    assert gate.accept(TP, 10, stale) == (DELIVER, None)
    gate.unsought([TP])      # rebalance
    gate.sought(TP, 11)      # and the seek after it
    assert gate.accept(TP, 11, stale) == (DROP, None)  # the rest of the old batch never reaches the stream
    assert gate.accept(TP, 11, gate.batch_epoch(TP)) == (DELIVER, None)


def test_gaps_are_only_what_the_broker_skipped_after_the_seek():
    gate = DeliveryGate()
    gate.sought(TP, 10)
    e = gate.batch_epoch(TP)
    assert gate.accept(TP, 13, e) == (DELIVER, (10, 12))  # 10-12 compacted away: nothing to process there
    assert gate.accept(TP, 14, e) == (DELIVER, None)
    assert gate.accept(TP, 12, e) == (DUPLICATE, None)


def test_commit_starts_exactly_at_the_committed_offset():
    acked = [11, 12, 13]
    assert next_commit(acked, [], 10) == (None, [])  # 10 is in flight: no commit past it (faust #606)
    acked.append(10)
    offset, consumed = next_commit(acked, [], 10)
    assert (offset, sorted(consumed)) == (14, [10, 11, 12, 13]) and acked == []


def test_commit_moves_over_gaps_but_not_over_holes():
    acked = [13, 14, 20]
    offset, _ = next_commit(acked, [(10, 12)], 10)
    assert offset == 15 and acked == [20]
    assert next_commit(acked, [], 15) == (None, [])


def test_acks_below_the_committed_offset_are_discarded():
    acked = [3, 4, 8]
    offset, consumed = next_commit(acked, [], 8)
    assert offset == 9 and sorted(consumed) == [3, 4, 8] and acked == []


def test_unknown_floor_starts_at_the_lowest_ack():
    acked = [5, 6, 8]
    assert next_commit(acked, [], None)[0] == 7
    assert acked == [8]


def test_safe_consumer_is_faust_consumer():
    from faust.transport.drivers.aiokafka import Consumer

    cls = faust_compat.safe_consumer_class()
    assert issubclass(cls, Consumer)
    for name in ("_drain_messages", "_new_offset", "_add_gap", "perform_seek", "ack", "on_partitions_assigned",
                 "on_partitions_revoked", "_wait_next_records", "_to_message", "_is_changelog_tp"):
        assert hasattr(Consumer, name), f"faust's consumer lost {name}: re-verify pipeline/runtime/faust_compat.py"


def test_a_revoke_cancels_a_requested_seek():
    gate = DeliveryGate()
    gate.request_seek(TP, 10)
    gate.unsought([TP])  # revoked before the fetch loop applied the seek
    assert gate.apply_seeks() == []
    assert gate.batch_epoch(TP) is None


def test_tables_must_use_the_memory_store():
    import faust

    from pipeline.runtime.faust_compat import CompatError, require_memory_store

    require_memory_store(faust.App("sp-test-mem", store="memory://", autodiscover=False))
    with pytest.raises(CompatError, match="in-memory store"):
        require_memory_store(faust.App("sp-test-rocks", store="rocksdb://", autodiscover=False))


def test_the_worker_app_serves_none_of_fausts_own_views(tmp_path):
    """build_worker leaves only the app's own pages: no /router/, /table/ (table contents), /graph/, /stats/, "/"."""
    from agents import build_worker
    from pipeline.settings import Settings

    p = build_worker(Settings(data_dir=tmp_path))
    enabled = p.app.web.blueprints._enabled
    assert [bp for _, bp in enabled if isinstance(bp, str) and bp.startswith("faust.")] == []
    with pytest.raises(faust_compat.CompatError, match="blueprint manager"):
        p.app.web.blueprints.applied = True
        faust_compat.only_own_views(p.app)
