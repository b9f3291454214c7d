"""Launcher error paths and process supervision (pipeline/ops/services/*) without starting Kafka or ClickHouse."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from pipeline.ops.services import embedded_kafka as kafka_mod
from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
from pipeline.ops.services.embedded_kafka import EmbeddedKafka, server_properties
from pipeline.ops.services.process import (LaunchError, ManagedProcess, free_port, pid_alive, port_bindable, port_in_use,
                                       wait_until)
from pipeline.settings import Settings


@pytest.fixture
def listener():
    """A real socket listening on a free 127.0.0.1 port; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def settings_for(tmp_path, **changes) -> Settings:
    base = dict(data_dir=tmp_path / "data", kafka_bootstrap=f"127.0.0.1:{free_port()}",
                kafka_controller_port=free_port(), clickhouse_port=free_port(), clickhouse_http_port=free_port())
    base.update(changes)
    return Settings(**base)


# --- port helpers --------------------------------------------------------------------------------------------------

def test_port_in_use_and_bindable_on_real_socket(listener):
    assert port_in_use(listener) is True
    assert port_bindable(listener) is False


def test_free_port_is_bindable_and_not_in_use():
    port = free_port()
    assert 1024 <= port < 65536
    assert port_bindable(port) is True
    assert port_in_use(port) is False


def test_port_free_again_after_close():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    assert port_in_use(port)
    sock.close()
    assert not port_in_use(port)
    assert port_bindable(port)


# --- ClickHouse launcher -------------------------------------------------------------------------------------------

def test_clickhouse_port_in_use(tmp_path, listener):
    s = settings_for(tmp_path, clickhouse_port=listener)
    with pytest.raises(LaunchError) as info:
        EmbeddedClickHouse(s).start(timeout=1)
    msg = str(info.value)
    assert f"port {listener} is already in use" in msg
    assert "SOCIALPULSE_CLICKHOUSE_PORT" in msg
    assert not (tmp_path / "data" / "run" / "clickhouse.pid").exists()


def test_clickhouse_http_port_in_use(tmp_path, listener):
    s = settings_for(tmp_path, clickhouse_http_port=listener)
    with pytest.raises(LaunchError) as info:
        EmbeddedClickHouse(s).start(timeout=1)
    assert f"port {listener}" in str(info.value)
    assert "SOCIALPULSE_CLICKHOUSE_HTTP_PORT" in str(info.value)


def test_clickhouse_not_running_has_no_pid_and_stop_is_noop(tmp_path):
    ch = EmbeddedClickHouse(settings_for(tmp_path))
    assert ch.pid() is None
    assert ch.stop() is False


# --- Kafka launcher ------------------------------------------------------------------------------------------------

def test_kafka_port_in_use(tmp_path, listener):
    s = settings_for(tmp_path, kafka_bootstrap=f"127.0.0.1:{listener}")
    with pytest.raises(LaunchError) as info:
        EmbeddedKafka(s).start(timeout=1)
    msg = str(info.value)
    assert f"port {listener} is already in use" in msg
    assert "SOCIALPULSE_KAFKA_BOOTSTRAP" in msg
    assert not (tmp_path / "data" / "kafka").exists()  # nothing configured or formatted


def test_kafka_controller_port_in_use(tmp_path, listener):
    s = settings_for(tmp_path, kafka_controller_port=listener)
    with pytest.raises(LaunchError) as info:
        EmbeddedKafka(s).start(timeout=1)
    assert f"port {listener}" in str(info.value)
    assert "SOCIALPULSE_KAFKA_CONTROLLER_PORT" in str(info.value)


def test_kafka_missing_java(tmp_path, monkeypatch):
    monkeypatch.setattr(kafka_mod.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(LaunchError) as info:
        EmbeddedKafka(settings_for(tmp_path)).start(timeout=1)
    assert "Java not found" in str(info.value)
    assert "Java 17" in str(info.value)


def test_kafka_missing_jars(tmp_path, monkeypatch):
    empty = tmp_path / "lib"
    empty.mkdir()
    monkeypatch.setattr(kafka_mod, "LIB_DIR", empty)
    real_which = shutil.which
    # the machine may lack Java; pretend it has one so the jar check is reached
    monkeypatch.setattr(kafka_mod.shutil, "which",
                        lambda name, *a, **k: real_which(name, *a, **k) or ("/usr/bin/" + name))
    with pytest.raises(LaunchError) as info:
        EmbeddedKafka(settings_for(tmp_path)).start(timeout=1)
    msg = str(info.value)
    assert "`make setup`" in msg
    assert str(empty) in msg


def test_kafka_classpath_with_jars(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "kafka_2.13-9.9.9.jar").write_bytes(b"")
    monkeypatch.setattr(kafka_mod, "LIB_DIR", lib)
    assert EmbeddedKafka(settings_for(tmp_path)).classpath() == str(lib / "*")


def test_server_properties_loopback_only(tmp_path):
    s = Settings(kafka_bootstrap="127.0.0.1:19092", kafka_controller_port=19093, partitions=4)
    text = server_properties(s, tmp_path / "logs")
    props = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "4"
    assert props["log.dirs"] == str(tmp_path / "logs")
    assert props["process.roles"] == "broker,controller"
    assert "0.0.0.0" not in text
    for key in ("listeners", "advertised.listeners", "controller.quorum.bootstrap.servers"):
        hosts = [part.rsplit(":", 1)[0].split("//")[-1] for part in props[key].split(",")]
        assert set(hosts) == {"127.0.0.1"}, key


# --- ManagedProcess --------------------------------------------------------------------------------------------------

@pytest.fixture
def sleeper(tmp_path):
    proc = ManagedProcess("sleeper", tmp_path / "run")
    yield proc
    pid = proc.pid()
    if pid is not None:  # only the process this test started
        proc.terminate(timeout=2)


def test_managed_process_spawn_pid_terminate(sleeper):
    assert sleeper.pid() is None
    pid = sleeper.spawn(["sleep", "30"])
    assert sleeper.pid_file.read_text() == str(pid)
    assert sleeper.pid() == pid
    assert pid_alive(pid)
    started = time.monotonic()
    assert sleeper.terminate(timeout=5) is True
    assert time.monotonic() - started < 5  # SIGTERM was enough
    assert not pid_alive(pid)
    assert not sleeper.pid_file.exists()
    assert sleeper.pid() is None
    assert sleeper.terminate() is False


def test_managed_process_log_file(sleeper):
    pid = sleeper.spawn([sys.executable, "-c", "print('hello from child'); import sys; sys.stdout.flush()"])
    assert wait_until(lambda: not pid_alive(pid), 10)
    assert "hello from child" in sleeper.log_tail()
    assert sleeper.log_file == sleeper.run_dir / "sleeper.log"


def test_stale_pid_file_is_removed(sleeper):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_pid = int(done.stdout)
    assert not pid_alive(dead_pid)
    sleeper.run_dir.mkdir(parents=True)
    sleeper.pid_file.write_text(f"{dead_pid}\n")
    assert sleeper.pid() is None
    assert not sleeper.pid_file.exists()


def test_stale_pid_after_process_exits(sleeper):
    pid = sleeper.spawn(["sleep", "30"])
    os.kill(pid, 15)  # the process we just started goes away on its own terms
    assert wait_until(lambda: not pid_alive(pid), 5)
    assert sleeper.pid_file.exists()
    assert sleeper.pid() is None
    assert not sleeper.pid_file.exists()


def test_garbage_pid_file(sleeper):
    sleeper.run_dir.mkdir(parents=True)
    sleeper.pid_file.write_text("not a pid")
    assert sleeper.pid() is None
    assert sleeper.log_tail() == ""


def test_wait_until():
    assert wait_until(lambda: True, 0) is True
    assert wait_until(lambda: False, 0.05, interval=0.01) is False
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OSError("not yet")
        return True

    assert wait_until(flaky, 2, interval=0.01) is True
    assert len(calls) == 3
