"""The embedded ClickHouse is locked (issue 19): on the session's server, without the password kept in
`<data dir>/run/clickhouse.password` nobody reads `socialpulse.mentions`, over the native TCP port or HTTP, as
`default` or with a wrong password; with it both ports answer. The password is in no command line and no CLI output,
the CLI finds it in the data dir, and rotating it (stop, delete the file, start) keeps the data."""
from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

pytestmark = pytest.mark.integration

COUNT = "SELECT count() FROM socialpulse.mentions"


def password_file(s) -> Path:
    return Path(s.data_dir) / "run" / "clickhouse.password"


def tcp(s, user: str, password: str, sql: str = COUNT):
    c = Client("127.0.0.1", port=s.clickhouse_port, user=user, password=password, connect_timeout=5)
    try:
        return c.execute(sql)
    finally:
        c.disconnect()


def http(s, sql: str = COUNT, *, auth: tuple[str, str] | None = None, params: dict | None = None) -> tuple[int, str]:
    query = urllib.parse.urlencode({"query": sql, **(params or {})})
    req = urllib.request.Request(f"http://127.0.0.1:{s.clickhouse_http_port}/?{query}")
    if auth is not None:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_native_port_refuses_default_and_a_wrong_password(s):
    for user, password in (("default", ""), ("socialpulse", ""), ("socialpulse", "wrong-" + "x" * 20)):
        with pytest.raises(ServerException) as err:
            tcp(s, user, password)
        assert err.value.code in (516, 700), (user, err.value.code)  # AUTHENTICATION_FAILED, USER_SESSION_LIMIT…


def test_http_port_refuses_without_the_password(s):
    attempts = {"no credentials": {}, "basic default:": {"auth": ("default", "")},
                "?user=default": {"params": {"user": "default"}},
                "socialpulse, wrong password": {"auth": ("socialpulse", "wrong")},
                "socialpulse, no password": {"params": {"user": "socialpulse"}}}
    for what, kwargs in attempts.items():
        status, body = http(s, **kwargs)
        assert status >= 400, (what, status, body)
        assert not body.strip().isdigit(), (what, body)


def test_with_the_password_from_the_file_both_ports_answer(s):
    password = password_file(s).read_text()
    assert password and password == s.clickhouse_password
    rows = tcp(s, "socialpulse", password)
    assert isinstance(rows[0][0], int)
    status, body = http(s, auth=("socialpulse", password))
    assert status == 200 and body.strip().isdigit(), body
    assert tcp(s, "socialpulse", password, "SELECT currentUser()") == [("socialpulse",)]


def test_password_file_and_users_config_are_private(s):
    path = password_file(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    home = Path(s.data_dir) / "clickhouse"
    users = home / "users.xml"
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert path.read_text() not in users.read_text(), "the server knows the password by its sha256 only"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700, "the table files are not readable by other users"


def test_password_is_on_no_command_line(running_stack, s):
    password = s.clickhouse_password.encode()
    pids = [p for p in (running_stack.clickhouse.pid(), running_stack.worker.pid(), running_stack.dashboard.pid()) if p]
    assert len(pids) == 3
    everyone = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    leaks = []
    for pid in everyone:
        try:
            if password in Path(f"/proc/{pid}/cmdline").read_bytes():
                leaks.append(pid)
        except OSError:
            continue
    assert leaks == []


def cli(s, *args: str) -> subprocess.CompletedProcess:
    """`socialpulse ARGS` for the session's data dir, the password NOT in the environment: found in the data dir."""
    from pipeline.ops.stack import settings_env

    env = settings_env(s)
    del env["SOCIALPULSE_CLICKHOUSE_PASSWORD"], env["SOCIALPULSE_CLICKHOUSE_USER"]
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_finds_the_password_in_the_data_dir_and_never_prints_it(s):
    status = cli(s, "status")
    clickhouse = [ln for ln in status.stdout.splitlines() if ln.startswith("clickhouse")]
    assert clickhouse and "running" in clickhouse[0], status.stdout + status.stderr
    config = cli(s, "config")
    assert "clickhouse_user = socialpulse" in config.stdout
    assert "clickhouse_password = ***" in config.stdout
    migrate = cli(s, "migrate")
    assert migrate.returncode == 0 and "migrations up to date" in migrate.stdout, migrate.stderr
    for out in (status, config, migrate):
        assert s.clickhouse_password not in out.stdout + out.stderr


def test_rotation_stop_delete_start_keeps_the_data(tmp_path):
    """docs/operations.md: stop, delete the password file, start: a new password, the old one refused, data kept."""
    from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
    from pipeline.ops.services.process import free_port
    from pipeline.settings import Settings

    base = Settings(data_dir=tmp_path, clickhouse_port=free_port(), clickhouse_http_port=free_port())
    first = EmbeddedClickHouse(base)
    first.start()
    try:
        tcp(first.s, "socialpulse", first.s.clickhouse_password, "CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x")
        tcp(first.s, "socialpulse", first.s.clickhouse_password, "INSERT INTO t VALUES (7)")
    finally:
        assert first.stop()
    password_file(base).unlink()
    second = EmbeddedClickHouse(base)
    assert second.s.clickhouse_password != first.s.clickhouse_password
    second.start()
    try:
        assert tcp(second.s, "socialpulse", second.s.clickhouse_password, "SELECT x FROM t") == [(7,)]
        with pytest.raises(ServerException):
            tcp(second.s, "socialpulse", first.s.clickhouse_password, "SELECT x FROM t")
    finally:
        second.stop()
