"""The fault tests' own stack: Kafka, ClickHouse, worker and dashboard started by `socialpulse up` on free ports in
a scratch data dir. They SIGKILL the worker and stop the servers, so they never touch the session stack the other
integration tests share."""
from __future__ import annotations

import pytest

from pipeline.settings import Settings
from tests.conftest import SAMPLE_BRANDS, free_port


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory):
    from pipeline.ops.stack import Stack

    s = Settings(data_dir=tmp_path_factory.mktemp("faults-stack"), kafka_bootstrap=f"127.0.0.1:{free_port()}",
                 kafka_controller_port=free_port(), clickhouse_port=free_port(), clickhouse_http_port=free_port(),
                 worker_port=free_port(), dashboard_port=free_port(), brands_file=str(SAMPLE_BRANDS), partitions=4,
                 sink_flush_interval=0.3, log_level="info")
    stack = Stack(s)
    stack.up(lambda _line: None)
    try:
        yield stack
    finally:
        stack.down(lambda _line: None)


@pytest.fixture
def s(running_stack) -> Settings:
    return running_stack.s
