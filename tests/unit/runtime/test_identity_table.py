"""The worker's identity table: what apply() keeps and get() answers, and what an identity costs in memory."""
from __future__ import annotations

import tracemalloc

from pipeline.codec import encode
from pipeline.contract.records import Identity
from pipeline.runtime.identity_table import IdentityTable
from pipeline.settings import Settings


def identity(i: int) -> tuple[bytes, bytes]:
    key = f"twitter:user_number_{i}"
    value = Identity(key=key, customer_id=f"CRM-{i:08d}", tier="gold", lifetime_value=1234.5, followers=i,
                     name="A Customer Name", updated_at="2026-12-01T10:00:00Z")
    return key.encode(), encode(value)


def test_get_answers_what_resolution_needs_and_tombstones_erase():
    t = IdentityTable(Settings())
    key, value = identity(7)
    t.apply(key, value)
    got = t.get("twitter:user_number_7")
    assert (got.key, got.customer_id, got.tier, got.lifetime_value, got.followers) == (
        "twitter:user_number_7", "CRM-00000007", "gold", 1234.5, 7)
    t.apply(key, None)
    assert t.get("twitter:user_number_7") is None and len(t) == 0


def test_an_undecodable_record_is_skipped():
    t = IdentityTable(Settings())
    t.apply(b"twitter:x", b"{not json")
    assert len(t) == 0


def test_an_identity_costs_under_250_bytes():
    t = IdentityTable(Settings())
    items = [identity(i) for i in range(20_000)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for key, value in items:
        t.apply(key, value)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert len(t) == 20_000
    assert grown / 20_000 < 250, f"{grown / 20_000:.0f} bytes per identity"
