"""Dashboard hardening on a real local socket (stand-ins for Kafka and ClickHouse): trusted proxies, expiring and
rotating sessions, sign-out, token rotation from the token file, log escaping and redaction, header and body read
timeouts, live-stream limits, unknown alert ids and bad numeric parameters, log file modes."""
from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import stat
import sys
import time

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from pipeline.settings import Settings
from pipeline.web.auth import COOKIE_NAME, SESSIONS
from pipeline.web.logs import RedactTokens, escape, install_log_redaction
from pipeline.web.proxy import TrustedProxies
from pipeline.web.server import create_web_app, dashboard_tokens, runner_options
from pipeline.adapters.secretfile import read_secret, write_secret
from pipeline.web.tokens import TokenSource, token_file

from .test_dashboard import BEARER, TOKEN, StubFeed, StubQueries

FWD = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dash.example:8443"}
PUBLIC = "https://dash.example:8443"


def serve(scenario, settings: Settings | None = None, token=TOKEN, queries=None, **runner_kwargs):
    """Run `scenario(client, app, feed, queries)` against the app on 127.0.0.1, served with our access logger; the
    client keeps no cookies (every request says which session it carries)."""
    async def main():
        feed, q = StubFeed(), queries if queries is not None else StubQueries()
        app = create_web_app(settings or Settings(), token, feed=feed, queries=q)
        server = TestServer(app)
        options = {k: v for k, v in runner_options(settings or Settings()).items()
                   if k in ("access_log", "access_log_class")}
        await server.start_server(**{**options, **runner_kwargs})
        async with TestClient(server, cookie_jar=DummyCookieJar()) as client:
            return await scenario(client, app, feed, q)
    return asyncio.run(main())


async def login(client, headers=None) -> tuple[str, str]:
    """Sign in with ?token=: (the cookie value, the whole Set-Cookie header)."""
    r = await client.get(f"/?token={TOKEN}", headers=headers or {}, allow_redirects=False)
    assert r.status == 303
    return r.cookies[COOKIE_NAME].value, r.headers["Set-Cookie"]


def with_cookie(value: str, **headers) -> dict:
    return {"Cookie": f"{COOKIE_NAME}={value}", **headers}


# --- behind a TLS proxy ---------------------------------------------------------------------------------------------

def test_a_trusted_proxy_makes_the_cookie_secure_and_the_page_origin_https():
    async def scenario(client, app, feed, queries):
        value, set_cookie = await login(client, FWD)
        ack = await client.post("/api/alerts/complaint:abc/ack", headers=with_cookie(value, Origin=PUBLIC, **FWD))
        http_origin = await client.post("/api/alerts/complaint:abc/ack",
                                        headers=with_cookie(value, Origin="http://dash.example:8443", **FWD))
        return set_cookie, ack.status, http_origin.status, len(feed.actions)

    set_cookie, ack, http_origin, produced = serve(scenario, Settings(trusted_proxies="127.0.0.1"))
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert (ack, http_origin, produced) == (202, 403, 1)


@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8, 192.0.2.1"])
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(trusted):
    async def scenario(client, app, feed, queries):
        value, set_cookie = await login(client, FWD)
        forged = await client.post("/api/alerts/complaint:abc/ack", headers=with_cookie(value, Origin=PUBLIC, **FWD))
        own = await client.post("/api/alerts/complaint:abc/ack",
                                headers=with_cookie(value, Origin=f"http://127.0.0.1:{client.port}", **FWD))
        return set_cookie, forged.status, own.status

    set_cookie, forged, own = serve(scenario, Settings(trusted_proxies=trusted))
    assert "Secure" not in set_cookie
    assert (forged, own) == (403, 202)


def test_forwarded_values_are_checked_and_the_client_is_the_last_untrusted_hop():
    import ipaddress

    proxies = TrustedProxies([ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")])
    assert proxies.trusts("127.0.0.1") and proxies.trusts("::ffff:10.1.2.3") and not proxies.trusts("192.0.2.1")
    assert not proxies.trusts(None) and not proxies.trusts("not-an-ip")
    assert proxies.client("203.0.113.9, 10.1.2.3") == "203.0.113.9"
    assert proxies.client("198.51.100.1, 203.0.113.9, 10.1.2.3") == "203.0.113.9"  # the first one is the client's say
    assert proxies.client("10.0.0.7, 10.1.2.3") == "10.0.0.7"
    assert proxies.client("garbage, 10.1.2.3") is None and proxies.client("") is None

    async def scenario(client, app, feed, queries):
        odd = {"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "evil.example/x?y"}
        _, set_cookie = await login(client, odd)
        r = await client.get("/", headers={**BEARER, **odd})
        return set_cookie, r.status

    set_cookie, status = serve(scenario, Settings(trusted_proxies="127.0.0.1"))
    assert "Secure" not in set_cookie and status == 200


def test_bad_trusted_proxies_setting_names_the_variable():
    from pipeline.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="SOCIALPULSE_TRUSTED_PROXIES='nginx'"):
        load_settings({"SOCIALPULSE_TRUSTED_PROXIES": "nginx"})
    s = load_settings({"SOCIALPULSE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert [str(n) for n in s.trusted_proxy_networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


# --- sessions ---------------------------------------------------------------------------------------------------------

def test_sessions_expire_and_are_reissued_after_half_their_life():
    ttl = 3600

    async def scenario(client, app, feed, queries):
        now = [1_900_000_000.0]
        app[SESSIONS]._clock = lambda: now[0]
        first, set_cookie = await login(client)
        early = await client.get("/api/kpis", headers=with_cookie(first))
        now[0] += ttl * 0.6
        late = await client.get("/api/kpis", headers=with_cookie(first))
        second = late.cookies[COOKIE_NAME].value
        now[0] += ttl * 0.5  # the first session is over, the second is not
        return (set_cookie, early.status, "Set-Cookie" in early.headers, late.status, first, second,
                (await client.get("/api/kpis", headers=with_cookie(first))).status,
                (await client.get("/api/kpis", headers=with_cookie(second))).status)

    set_cookie, early, early_reissued, late, first, second, first_after, second_after = serve(
        scenario, Settings(dashboard_session_ttl=ttl))
    assert f"Max-Age={ttl}" in set_cookie and TOKEN not in first and first.startswith("v1.")
    assert (early, early_reissued, late) == (200, False, 200)
    assert second != first
    assert (first_after, second_after) == (401, 200)


def test_a_forged_or_edited_session_is_refused():
    async def scenario(client, app, feed, queries):
        value, _ = await login(client)
        version, issued, expires, sid, mac = value.split(".")
        edits = [f"{version}.{issued}.{int(expires) + 86400}.{sid}.{mac}",  # longer life
                 f"{version}.{issued}.{expires}.{sid}x.{mac}",  # another id
                 f"{version}.{issued}.{expires}.{sid}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
                 TOKEN, "", "v1....", "v1.1.2.3.4.5"]
        statuses = [(await client.get("/api/kpis", headers=with_cookie(v))).status for v in edits]
        return statuses, (await client.get("/api/kpis", headers=with_cookie(value))).status

    statuses, good = serve(scenario)
    assert statuses == [401] * 7 and good == 200


def test_sign_out_revokes_the_session_clears_the_cookie_and_ends_its_stream():
    async def scenario(client, app, feed, queries):
        value, _ = await login(client)
        other, _ = await login(client)
        origin = f"http://127.0.0.1:{client.port}"
        stream = await client.get("/api/stream", headers=with_cookie(value))
        await asyncio.wait_for(stream.content.readuntil(b"event: snapshot"), 5)
        evil = await client.post("/logout", headers=with_cookie(value, Origin="http://evil.example"),
                                 allow_redirects=False)
        out = await client.post("/logout", headers=with_cookie(value, Origin=origin), allow_redirects=False)
        await asyncio.wait_for(stream.content.read(), 5)
        ended = stream.content.at_eof()  # the server ended the stream
        page = await client.get(out.headers["Location"], headers={"Cookie": ""})
        again = await client.get("/api/kpis", headers=with_cookie(value))
        still = await client.get("/api/kpis", headers=with_cookie(other))
        bearer = await client.post("/logout", headers=BEARER)
        return (evil.status, out.status, out.headers["Location"], out.headers.get("Set-Cookie", ""), ended,
                page.status, await page.text(), again.status, still.status, bearer.status, await bearer.json())

    (evil, status, location, cleared, ended, page, html, again, still, bearer, body) = serve(scenario)
    assert evil == 403
    assert status == 303 and location == "/signed-out"
    assert cleared.startswith(f"{COOKIE_NAME}=") and "Max-Age=0" in cleared
    assert ended
    assert page == 200 and "signed out" in html
    assert again == 401 and still == 200  # only that session
    assert bearer == 400 and "bearer token" in body["error"]


def test_a_new_token_in_the_file_ends_old_sessions_tokens_and_streams(tmp_path, caplog):
    path = token_file(tmp_path)
    write_secret(path, TOKEN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = TokenSource(TOKEN, path, check_every=0.0)
    new = "n3w-t0k3n-" + "y" * 20

    async def scenario(client, app, feed, queries):
        value, _ = await login(client)
        stream = await client.get("/api/stream", headers=with_cookie(value))
        await asyncio.wait_for(stream.content.readuntil(b"event: snapshot"), 5)
        write_secret(path, new)
        old_bearer = await client.get("/api/kpis", headers=BEARER)
        await asyncio.wait_for(stream.content.read(), 5)
        ended = stream.content.at_eof()
        old_cookie = await client.get("/api/kpis", headers=with_cookie(value))
        new_bearer = await client.get("/api/kpis", headers={"Authorization": f"Bearer {new}"})
        relogin = await client.get(f"/?token={new}", allow_redirects=False)
        return old_bearer.status, ended, old_cookie.status, new_bearer.status, relogin.status

    with caplog.at_level(logging.INFO):
        assert serve(scenario, token=tokens) == (401, True, 401, 200, 303)
    assert tokens.generation == 1 and new in RedactTokens.secrets
    assert "dashboard token changed" in caplog.text and new not in caplog.text


def test_the_token_file_is_looked_at_only_every_few_seconds(tmp_path):
    path = token_file(tmp_path)
    write_secret(path, "a" * 24)
    now = [100.0]
    tokens = TokenSource("a" * 24, path, clock=lambda: now[0])
    write_secret(path, "b" * 24)
    assert tokens.current() == "a" * 24
    now[0] += 2.0
    assert tokens.current() == "b" * 24
    path.unlink()  # a missing or empty file keeps the token in use
    now[0] += 2.0
    assert tokens.current() == "b" * 24


def test_which_token_a_dashboard_follows(tmp_path):
    fixed, shown = dashboard_tokens(Settings(data_dir=tmp_path, dashboard_token="e" * 24))
    assert fixed.path is None and shown == "<SOCIALPULSE_DASHBOARD_TOKEN>"
    kept, shown = dashboard_tokens(Settings(data_dir=tmp_path))  # none configured: made once, followed
    path = token_file(tmp_path)
    assert kept.path == path and shown == read_secret(path) and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dashboard_tokens(Settings(data_dir=tmp_path))[1] == shown  # the same one next time
    by_up, shown = dashboard_tokens(Settings(data_dir=tmp_path, dashboard_token=read_secret(path)))  # `up` passes it
    assert by_up.path == path and by_up.current() == read_secret(path) and read_secret(path) not in shown


def test_rotate_token_command(tmp_path, monkeypatch):
    from pipeline.cli import main

    monkeypatch.delenv("SOCIALPULSE_DASHBOARD_TOKEN", raising=False)
    runner = CliRunner()
    out = runner.invoke(main, ["dashboard", "rotate-token", "--data-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    token = read_secret(token_file(tmp_path))
    assert f"/?token={token}" in out.output and len(token) >= 24
    assert stat.S_IMODE(token_file(tmp_path).stat().st_mode) == 0o600
    again = runner.invoke(main, ["dashboard", "rotate-token", "--data-dir", str(tmp_path)])
    assert again.exit_code == 0 and read_secret(token_file(tmp_path)) != token

    refused = runner.invoke(main, ["dashboard", "rotate-token", "--data-dir", str(tmp_path)],
                            env={"SOCIALPULSE_DASHBOARD_TOKEN": "f" * 24})
    assert refused.exit_code == 2
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "SOCIALPULSE_DASHBOARD_TOKEN is set" in lines[0] and "restart" in lines[0]

    served = []
    monkeypatch.setattr("pipeline.web.server.run_dashboard", lambda s, port, echo: served.append(port))
    assert runner.invoke(main, ["dashboard", "--port", "8099"]).exit_code == 0 and served == [8099]


# --- logs --------------------------------------------------------------------------------------------------------------

def test_escape_writes_every_control_character_as_an_escape():
    assert escape("/ok/path-1") == "/ok/path-1"
    assert escape("/x\n2026-01-01 INFO forged") == "/x\\x0a2026-01-01 INFO forged"
    assert escape("a\r\tb\x1b[31m\x7f\x85\u2028\u200b\\") == "a\\x0d\\x09b\\x1b[31m\\x7f\\x85\\u2028\\u200b\\\\"


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_access_log_escapes_the_path_and_redaction_covers_aiohttp_tracebacks(caplog):
    async def scenario(client, app, feed, queries):
        await client.get("/x%0a2026-01-01 00:00:00 INFO socialpulse GET / 200 %1b[2J", headers=BEARER)
        port = client.port
        await asyncio.to_thread(raw_exchange, port, f"GET /?token={TOKEN} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
                                .encode())
        await asyncio.to_thread(raw_exchange, port, f"G\x01T /?token={TOKEN} HTTP/1.1\r\n\r\n".encode())
        await asyncio.to_thread(raw_exchange, port, f"GET / HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                                                    "Content-Length: nope\r\n\r\n".encode())

    with caplog.at_level(logging.DEBUG):
        serve(scenario)
    formatter = logging.Formatter("%(name)s %(message)s")
    lines = [formatter.format(r) for r in caplog.records if r.name.startswith(("aiohttp", "socialpulse"))]
    text = "\n".join(lines)
    assert TOKEN not in text and TOKEN not in caplog.text
    access = [line for line in lines if line.startswith("socialpulse.dashboard.access GET /x")]
    assert access == ["socialpulse.dashboard.access GET /x\\x0a2026-01-01 00:00:00 INFO socialpulse GET / 200 "
                      "\\x1b[2J 404 " + access[0].rsplit(" ", 1)[1]] if access else False, lines
    malformed = [line for line in lines if line.startswith("aiohttp.server")]
    assert len(malformed) == 3 and all("\n" not in line and "Traceback" not in line for line in malformed), malformed
    assert all(r.levelno <= logging.WARNING for r in caplog.records if r.name == "aiohttp.server")


def test_redaction_of_tracebacks_stacks_and_child_loggers():
    secret = "s3cr3t-" + "z" * 20
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_redaction([secret])
        child = logging.getLogger("pipeline.web.some.child")  # no filter of its own: the root handler's applies
        try:
            raise ValueError(f"bad request /?token={secret}&x=1 Authorization: Bearer {secret}")
        except ValueError:
            child.error("failed for %s", secret, exc_info=True)
            logging.getLogger("aiohttp.web").warning("stack", stack_info=True, extra={})
        logging.getLogger("aiohttp.server").error("raw %s", f"?token=other-value-123 Bearer abc.def {secret}")
    finally:
        root.removeHandler(handler)
    out = stream.getvalue()
    assert secret not in out and "other-value-123" not in out and "abc.def" not in out
    assert "Traceback" in out and "ValueError: bad request /?token=***&x=1" in out and "Bearer ***" in out


def test_log_files_of_background_processes_are_private(tmp_path):
    from pipeline.ops.services.process import ManagedProcess, wait_until

    proc = ManagedProcess("probe", tmp_path / "run")
    (tmp_path / "run").mkdir()
    proc.log_file.write_text("old line\n")
    os.chmod(proc.log_file, 0o644)
    pid = proc.spawn([sys.executable, "-c", "print('hello')"])
    assert wait_until(lambda: "hello" in proc.log_file.read_text(), 10)
    assert stat.S_IMODE(proc.log_file.stat().st_mode) == 0o600 and proc.log_file.read_text().startswith("old line")
    fresh = ManagedProcess("fresh", tmp_path / "run")
    fresh.spawn([sys.executable, "-c", "pass"])
    assert stat.S_IMODE(fresh.log_file.stat().st_mode) == 0o600
    wait_until(lambda: proc.pid() is None and fresh.pid() is None, 10)
    assert pid > 0


# --- timeouts -----------------------------------------------------------------------------------------------------------

def held_open(port: int, first: bytes, trickle: bytes = b"", limit: float = 8.0) -> tuple[float, bytes]:
    """Send `first`, then one byte of `trickle` every 0.2 s; the seconds until the server closed, and its reply."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.sendall(first)
        sock.settimeout(0.2)
        reply = b""
        for i in range(int(limit / 0.2)):
            try:
                chunk = sock.recv(65536)
                if not chunk:
                    return time.monotonic() - start, reply
                reply += chunk
            except socket.timeout:
                pass
            except OSError:  # reset: closed while our trickled bytes were unread
                return time.monotonic() - start, reply
            try:
                if trickle:
                    sock.sendall(trickle[i % len(trickle):][:1])
            except OSError:
                return time.monotonic() - start, reply
        return time.monotonic() - start, reply


def test_partial_headers_are_cut_off_after_the_header_timeout():
    s = Settings(dashboard_header_timeout=1.0)
    options = runner_options(s)
    assert options["keepalive_timeout"] == 1.0  # what run_app and DashboardThread are given

    async def scenario(client, app, feed, queries):
        silent = await asyncio.to_thread(held_open, client.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: ")
        slow = await asyncio.to_thread(held_open, client.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: ", b"abcdef")
        after_one = await asyncio.to_thread(
            held_open, client.port, f"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nX-B: ".encode(), b"x")
        return silent, slow, after_one

    (t1, r1), (t2, r2), (t3, r3) = serve(scenario, s, keepalive_timeout=options["keepalive_timeout"])
    assert 0.8 <= t1 < 3.0 and r1 == b""
    assert 0.8 <= t2 < 3.0 and r2 == b""  # bytes trickling in do not extend it
    assert t3 < 3.0 and r3.startswith(b"HTTP/1.1 200")  # the keep-alive request after a response: the same


def test_a_withheld_body_gets_408_after_the_body_timeout():
    s = Settings(dashboard_body_timeout=1.0, ingest_token="ingest-" + "k" * 20)

    async def scenario(client, app, feed, queries):
        ack = await asyncio.to_thread(held_open, client.port, (
            "POST /api/alerts/complaint:abc/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN +
            "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{").encode(), b" ")
        ingest = await asyncio.to_thread(held_open, client.port, (
            "POST /api/mentions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ingest-" + "k" * 20 +
            "\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n[").encode())
        return ack, ingest, feed.actions, feed.records

    (t1, r1), (t2, r2), actions, records = serve(scenario, s)
    for took, reply in ((t1, r1), (t2, r2)):
        assert 0.8 <= took < 4.0, took
        assert reply.startswith(b"HTTP/1.1 408") and b"SOCIALPULSE_DASHBOARD_BODY_TIMEOUT" in reply, reply
    assert actions == [] and records == []


# --- limits ------------------------------------------------------------------------------------------------------------

def test_live_streams_are_capped_in_total_and_per_client_before_the_snapshot():
    s = Settings(dashboard_max_streams=3, dashboard_max_streams_per_client=2, trusted_proxies="127.0.0.1")

    def snapshots(queries) -> int:
        return sum("FROM alerts_unresolved FINAL\nWHERE status" in sql for sql, _ in queries.calls)

    async def scenario(client, app, feed, queries):
        async def open_stream(client_ip=None):
            headers = {**BEARER, **({"X-Forwarded-For": client_ip} if client_ip else {})}
            r = await client.get("/api/stream", headers=headers)
            if r.status == 200:
                await asyncio.wait_for(r.content.readuntil(b"event: snapshot"), 5)
            return r

        a, b = await open_stream(), await open_stream()
        third_same = await open_stream()
        other = await open_stream("198.51.100.7")
        fourth = await open_stream("198.51.100.8")
        refused = (third_same.status, await third_same.json(), fourth.status, await fourth.json(),
                   third_same.headers.get("Retry-After"), snapshots(queries))
        a.close()  # the page goes away: its slot is free within a second or so
        for _ in range(50):
            again = await open_stream()
            if again.status == 200:
                break
            await asyncio.sleep(0.1)
        return (a.status, b.status, other.status), refused, again.status

    opened, refused, again = serve(scenario, s)
    same_status, same_body, total_status, total_body, retry_after, snapshot_queries = refused
    assert opened == (200, 200, 200)
    assert same_status == 503 and "SOCIALPULSE_DASHBOARD_MAX_STREAMS_PER_CLIENT" in same_body["error"]
    assert total_status == 503 and "SOCIALPULSE_DASHBOARD_MAX_STREAMS)" in total_body["error"]
    assert retry_after and snapshot_queries == 3  # refused streams ran no query
    assert again == 200


class DownQueries(StubQueries):
    async def execute(self, sql, params):
        raise ConnectionError("ClickHouse down")


def test_ack_of_an_unknown_alert_is_a_404_and_produces_nothing():
    async def scenario(client, app, feed, queries):
        unknown = await client.post("/api/alerts/complaint:nope/ack", headers=BEARER)
        resolve = await client.post("/api/alerts/complaint:nope/resolve", headers=BEARER)
        known = await client.post("/api/alerts/complaint:abc/resolve", headers=BEARER)
        return unknown.status, await unknown.json(), resolve.status, known.status, [a.alert_id for a in feed.actions]

    status, body, resolve, known, produced = serve(scenario)
    assert (status, resolve, known) == (404, 404, 202)
    assert body == {"error": "no alert complaint:nope"} and produced == ["complaint:abc"]


def test_ack_needs_clickhouse_unless_the_alert_was_seen_live():
    async def scenario(client, app, feed, queries):
        down = await client.post("/api/alerts/complaint:abc/ack", headers=BEARER)
        feed.remember("complaint:live-1")  # arrived on alerts.complaints, the sink has not written it yet
        live = await client.post("/api/alerts/complaint:live-1/ack", headers=BEARER)
        return down.status, await down.json(), live.status, [a.alert_id for a in feed.actions]

    down, body, live, produced = serve(scenario, queries=DownQueries())
    assert down == 503 and body == {"error": "ClickHouse unavailable"}
    assert live == 202 and produced == ["complaint:live-1"]


@pytest.mark.parametrize("url", ["/api/alerts?limit=abc", "/api/alerts?limit=1e3", "/api/sentiment?hours=x",
                                 "/api/advocates?days=-", "/api/advocates?limit=" + "9" * 5000])
def test_bad_numeric_parameters_are_400_even_when_clickhouse_is_down(url):
    async def scenario(client, app, feed, queries):
        r = await client.get(url, headers=BEARER)
        return r.status, r.content_type, await r.json()

    status, content_type, body = serve(scenario, queries=DownQueries())
    assert status == 400 and content_type == "application/json"
    name = url.split("?")[1].split("=")[0]
    assert body["error"].startswith(f"{name} must be an integer")


def test_an_unreadable_body_is_a_400_without_a_traceback(caplog):
    async def scenario(client, app, feed, queries):
        r = await client.post("/api/alerts/complaint:abc/ack", data=b"not gzip at all",
                              headers={**BEARER, "Content-Type": "application/json", "Content-Encoding": "gzip"})
        return r.status, await r.json(), feed.actions

    with caplog.at_level(logging.DEBUG):
        status, body, actions = serve(scenario)
    assert status == 400 and "could not read" in body["error"] and actions == []
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]
