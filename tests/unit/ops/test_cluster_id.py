"""The embedded broker's KRaft cluster id: valid for the storage tool, never mistaken for an option."""
from __future__ import annotations

import base64


from pipeline.ops.services import embedded_kafka as kafka_mod
from pipeline.ops.services.embedded_kafka import new_cluster_id


def test_cluster_ids_are_16_random_bytes_and_never_start_with_a_dash(monkeypatch):
    ids = [new_cluster_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for cid in ids:
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_an_unlucky_draw_is_redrawn(monkeypatch):
    # uuid4 bytes 0xF8… encode to "-" first: the function must draw again instead of returning it.
    draws = iter([bytes([0xF8]) + bytes(15), bytes(16)])

    class FakeUuid:
        def __init__(self, b: bytes) -> None:
            self.bytes = b

    monkeypatch.setattr(kafka_mod.uuid, "uuid4", lambda: FakeUuid(next(draws)))
    assert base64.urlsafe_b64encode(bytes([0xF8]) + bytes(15)).decode().startswith("-")
    assert new_cluster_id() == base64.urlsafe_b64encode(bytes(16)).decode().rstrip("=")
