"""The embedded ClickHouse is locked: the kept password (0600 from the start, generated once), which user/password a
client resolves (`load_settings`, `Stack`, an explicit value wins), and the users config the server starts with."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pipeline.ops.credentials import embedded_clickhouse_settings, kept_secret
from pipeline.ops.services import clickhouse_server
from pipeline.settings import Settings, clickhouse_password_path, load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """umask 0: a file created without an explicit mode would be world-readable."""
    old = os.umask(0)
    yield
    os.umask(old)


# --- the kept password -------------------------------------------------------------------------------------------

def test_kept_secret_is_generated_once_with_mode_0600_and_reused(tmp_path, open_umask):
    path = tmp_path / "run" / "clickhouse.password"
    first = kept_secret(path)
    assert len(first) >= 32 and path.read_text() == first
    assert mode(path) == 0o600
    assert kept_secret(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["clickhouse.password"], "no temporary file is left behind"


def test_kept_secret_file_is_created_0600_not_chmodded_later(tmp_path, monkeypatch, open_umask):
    """Every file the function creates is opened with O_EXCL and mode 0600: never readable by others, not briefly."""
    created = []
    real_open = os.open

    def spy(path, flags, mode_=0o777, *a, **kw):
        if flags & os.O_CREAT:
            created.append((Path(path).name, flags & os.O_EXCL, mode_))
        return real_open(path, flags, mode_, *a, **kw)

    monkeypatch.setattr(os, "open", spy)
    monkeypatch.setattr(os, "chmod", lambda *a, **kw: pytest.fail("a new secret file needs no chmod"))
    kept_secret(tmp_path / "clickhouse.password")
    assert created and all(excl and m == 0o600 for _, excl, m in created), created


def test_kept_secret_concurrent_first_calls_agree(tmp_path):
    path = tmp_path / "clickhouse.password"
    got, barrier = [], threading.Barrier(8)

    def call():
        barrier.wait()
        got.append(kept_secret(path))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 1 and got[0] == path.read_text()


def test_kept_secret_replaces_an_empty_file_and_tightens_a_loose_one(tmp_path):
    path = tmp_path / "clickhouse.password"
    path.write_text("")
    secret = kept_secret(path)
    assert secret and path.read_text() == secret and mode(path) == 0o600
    path.chmod(0o644)
    assert kept_secret(path) == secret and mode(path) == 0o600


# --- which credentials a client uses -----------------------------------------------------------------------------

def test_embedded_clickhouse_gets_user_socialpulse_and_the_kept_password(tmp_path):
    s = embedded_clickhouse_settings(Settings(data_dir=tmp_path))
    path = clickhouse_password_path(tmp_path)
    assert path == tmp_path / "run" / "clickhouse.password"
    assert (s.clickhouse_user, s.clickhouse_password) == ("socialpulse", path.read_text())
    assert embedded_clickhouse_settings(s) == s, "idempotent"
    copy = dataclasses.replace(s, data_dir=tmp_path / "other")  # e.g. an extra worker's data dir
    assert embedded_clickhouse_settings(copy).clickhouse_password == s.clickhouse_password


def test_a_configured_password_or_user_wins(tmp_path):
    s = embedded_clickhouse_settings(Settings(data_dir=tmp_path, clickhouse_password="mine"))
    assert (s.clickhouse_user, s.clickhouse_password) == ("socialpulse", "mine")
    assert not clickhouse_password_path(tmp_path).exists(), "no password generated when one is configured"
    s = embedded_clickhouse_settings(Settings(data_dir=tmp_path, clickhouse_user="reader"))
    assert s.clickhouse_user == "reader" and s.clickhouse_password == clickhouse_password_path(tmp_path).read_text()


def test_external_clickhouse_is_left_alone(tmp_path):
    s = Settings(data_dir=tmp_path, clickhouse_host="ch.example")
    assert embedded_clickhouse_settings(s) == s
    s = Settings(data_dir=tmp_path, clickhouse_embedded=False)  # another stack's server on this host
    assert embedded_clickhouse_settings(s) == s
    assert not clickhouse_password_path(tmp_path).exists()


def test_load_settings_picks_up_the_kept_password_for_the_process(tmp_path, monkeypatch):
    for k in [k for k in os.environ if k.startswith("SOCIALPULSE_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("SOCIALPULSE_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert (s.clickhouse_user, s.clickhouse_password) == ("socialpulse", ""), "no file yet: nothing is generated"
    assert not clickhouse_password_path(tmp_path).exists()
    password = kept_secret(clickhouse_password_path(tmp_path))
    s = load_settings()
    assert (s.clickhouse_user, s.clickhouse_password) == ("socialpulse", password)
    assert s.redacted()["clickhouse_password"] == "***"
    monkeypatch.setenv("SOCIALPULSE_CLICKHOUSE_PASSWORD", "explicit")
    assert load_settings().clickhouse_password == "explicit"
    monkeypatch.setenv("SOCIALPULSE_CLICKHOUSE_HOST", "ch.example")
    monkeypatch.setenv("SOCIALPULSE_CLICKHOUSE_USER", "default")
    assert load_settings().clickhouse_user == "default", "an external server's user is not renamed"
    # an explicit environment is parsed as it is (tests, compose checks): no file is read
    assert load_settings({"SOCIALPULSE_DATA_DIR": str(tmp_path)}) == Settings(data_dir=tmp_path)


def test_children_get_the_password_in_their_environment_not_argv(tmp_path):
    from pipeline.ops.stack import Stack, settings_env

    stack = Stack(Settings(data_dir=tmp_path))
    env = settings_env(stack.s)
    assert env["SOCIALPULSE_CLICKHOUSE_USER"] == "socialpulse"
    assert env["SOCIALPULSE_CLICKHOUSE_PASSWORD"] == clickhouse_password_path(tmp_path).read_text()
    assert stack.clickhouse.s.clickhouse_password == stack.s.clickhouse_password


# --- the server's configuration ----------------------------------------------------------------------------------

def test_users_config_knows_the_password_by_its_sha256_only_and_locks_default():
    xml = clickhouse_server.users_config("socialpulse", "s3cret-pw")
    assert "s3cret-pw" not in xml
    users = ET.fromstring(xml).find("users")
    sp = users.find("socialpulse")
    assert sp.findtext("password_sha256_hex") == hashlib.sha256(b"s3cret-pw").hexdigest()
    assert sp.find("grants") is None and sp.find("allow_databases") is None, "full access"
    default = users.find("default")
    profile = ET.fromstring(xml).find(f"profiles/{default.findtext('profile')}")
    assert profile.findtext("max_sessions_for_user") == "1", "the server's own session holds default's only slot"
    grants = [q.text for q in default.findall("grants/query")]
    assert grants and not any("SELECT" in g or "ALL" in g.split() or "INSERT" in g for g in grants), grants
    assert [ip.text for ip in default.findall("networks/ip")] == ["127.0.0.1"]


@pytest.mark.parametrize("user,password", [("default", "pw"), ("a b", "pw"), ("x</x><y>", "pw"), ("socialpulse", "")])
def test_users_config_refuses_a_bad_user_or_no_password(user, password):
    with pytest.raises(ValueError):
        clickhouse_server.users_config(user, password)


def test_server_config_listens_on_loopback_with_the_users_file():
    root = ET.fromstring(clickhouse_server.server_config(9000, 8123))
    assert root.findtext("listen_host") == "127.0.0.1"
    assert (root.findtext("tcp_port"), root.findtext("http_port")) == ("9000", "8123")
    assert root.findtext("users_config") == clickhouse_server.USERS_FILE


def test_write_users_config_is_private(tmp_path, open_umask):
    path = clickhouse_server.write_users_config(tmp_path / "ch", "socialpulse", "pw-1")
    assert mode(path) == 0o600 and "pw-1" not in path.read_text()
    clickhouse_server.write_users_config(tmp_path / "ch", "socialpulse", "pw-2")  # a restart after rotation
    assert hashlib.sha256(b"pw-2").hexdigest() in path.read_text() and mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["users.xml"]


def test_server_refuses_to_start_without_users(tmp_path, capsys):
    assert clickhouse_server.main([str(tmp_path), "1", "2"]) == 2
    assert "users.xml is missing" in capsys.readouterr().err
    assert not (tmp_path / "config.xml").exists()
