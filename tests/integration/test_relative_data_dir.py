"""The default data dir is relative (`.socialpulse`): the embedded servers must start from it, as `make demo` on
a fresh clone does (the broker runs with its own working directory, so every path handed to it is absolute)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
from pipeline.ops.services.embedded_kafka import EmbeddedKafka
from pipeline.ops.services.process import free_port
from pipeline.settings import Settings

pytestmark = pytest.mark.integration


def test_embedded_servers_start_from_a_relative_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings(data_dir=Path("relative-data"), kafka_bootstrap=f"127.0.0.1:{free_port()}",
                 kafka_controller_port=free_port(), clickhouse_port=free_port(), clickhouse_http_port=free_port())
    kafka, clickhouse = EmbeddedKafka(s), EmbeddedClickHouse(s)
    try:
        assert kafka.start(timeout=120) > 0
        assert clickhouse.start() > 0
        assert (tmp_path / "relative-data" / "kafka" / "logs" / "meta.properties").is_file()
    finally:
        kafka.stop()
        clickhouse.stop()
    assert kafka.pid() is None and clickhouse.pid() is None
