"""Session fixtures: a real Apache Kafka broker and a real ClickHouse server on free ports in a temp data dir."""
from __future__ import annotations

import dataclasses

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.ops.services.process import free_port  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
#: The demo's brands (Aerolux, NimbusMobile, Quickcart, Brewly): the stack knows their handles, as `make demo` does.
SAMPLE_BRANDS = ROOT / "pipeline" / "data" / "sample" / "brands.yml"


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory) -> Settings:
    """Settings for a fresh embedded stack (Kafka + ClickHouse) on free ports; the servers are started by the
    `kafka_server` / `clickhouse_server` fixtures. With the locked ClickHouse's credentials (user socialpulse, the
    password generated into <data dir>/run/clickhouse.password), as `socialpulse up` resolves them."""
    from pipeline.ops.credentials import embedded_clickhouse_settings

    data = tmp_path_factory.mktemp("stack")
    return embedded_clickhouse_settings(Settings(
        data_dir=data, kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_controller_port=free_port(),
        clickhouse_port=free_port(), clickhouse_http_port=free_port(), worker_port=free_port(),
        dashboard_port=free_port(), brands_file=str(SAMPLE_BRANDS), partitions=4, sink_flush_interval=0.3,
        log_level="info"))


@pytest.fixture(scope="session")
def clickhouse_server(stack_settings):
    from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse

    server = EmbeddedClickHouse(stack_settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_server(stack_settings):
    from pipeline.ops.services.embedded_kafka import EmbeddedKafka

    server = EmbeddedKafka(stack_settings)
    server.start(timeout=120)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def clickhouse_settings(clickhouse_server, stack_settings) -> Settings:
    """A running ClickHouse server (migrations NOT applied; tests pick their own database)."""
    return stack_settings


@pytest.fixture(scope="session")
def kafka_settings(kafka_server, stack_settings) -> Settings:
    return stack_settings


def fresh_settings(base: Settings, name: str, **changes) -> Settings:
    """Settings isolated per test: own database, own topics' consumer group and data subdir."""
    return dataclasses.replace(base, clickhouse_database=name, app_id=f"sp-{name}", worker_port=free_port(),
                               **changes)
