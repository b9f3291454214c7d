"""The dashboard behind a real TLS-terminating reverse proxy (Debian's nginx, as docs/operations.md recommends) on
loopback, in headless Chromium against the running stack: the session cookie is Secure, an alert arrives live
through the proxy (SSE unbuffered), Ack passes the Origin check and reaches ClickHouse, and Sign out ends the
session. The dashboard trusts the proxy's address only (SOCIALPULSE_TRUSTED_PROXIES=127.0.0.1)."""
from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.domain.escalation import alert_id as make_alert_id
from pipeline.ops.services.process import free_port

from .conftest import wait_for_rows
from .dashboard_thread import DashboardThread, debian_tool_or_skip
from .test_dashboard_browser import ARTIFACTS, HOSTILE_TAIL, mention, send, signed_in_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # The request line's path without its query string: the login URL's ?token= never reaches this log.
    log_format socialpulse '$remote_addr [$time_local] "$request_method $uri" $status $body_bytes_sent';
    access_log {dir}/access.log socialpulse;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def nginx_or_skip() -> str:
    """Debian's nginx (nginx-light), installed once if it is missing and we are root; else skip."""
    return shutil.which("nginx") or debian_tool_or_skip("/usr/sbin/nginx", "nginx-light")


def _tls_ready(port: int) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock, ctx.wrap_socket(sock):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def tls_proxy(upstream: int, workdir: Path) -> Iterator[tuple[int, Path]]:
    """nginx terminating TLS on 127.0.0.1:<free port> (a self-signed certificate made now with the openssl CLI) in
    front of 127.0.0.1:<upstream>; yields (port, its directory). Stopped on exit."""
    nginx = nginx_or_skip()
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is absent (it makes the proxy's certificate)")
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(workdir / "key.pem"),
                    "-out", str(workdir / "cert.pem")], check=True, capture_output=True, timeout=60)
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port, upstream=upstream))
    proc = subprocess.Popen([nginx, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not _tls_ready(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                err = (workdir / "error.log").read_text(errors="replace") if (workdir / "error.log").exists() else ""
                pytest.fail(f"nginx did not start: {proc.stderr.read().decode(errors='replace') if proc.stderr else ''}"
                            f"{err[-2000:]}")
            time.sleep(0.1)
        yield port, workdir
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def proxied(s, tmp_path):
    """The dashboard (trusting 127.0.0.1) behind nginx: (https base URL, the dashboard, nginx's directory)."""
    token = "proxy-" + uuid.uuid4().hex
    dashboard = DashboardThread(dataclasses.replace(s, dashboard_token=token, trusted_proxies="127.0.0.1"), token)
    dashboard.start()
    try:
        with tls_proxy(dashboard.port, tmp_path / "nginx") as (port, workdir):
            yield f"https://127.0.0.1:{port}/", dashboard, workdir
    finally:
        dashboard.stop()


def test_through_a_tls_proxy_the_cookie_is_secure_alerts_arrive_and_ack_works(s, proxied):
    base, dashboard, workdir = proxied
    suffix = uuid.uuid4().hex[:5]
    brand = f"aerolux-{suffix}"
    hostile = mention(brand, f"@aerolux you lost my bag and cancelled my flight, I want a refund now! {HOSTILE_TAIL}",
                      f"proxied_{suffix}", datetime.now(timezone.utc), channel="support", followers=90)
    expected_id = make_alert_id("complaint", f"{hostile['channel']}:{hostile['id']}")
    ARTIFACTS.mkdir(exist_ok=True)

    with signed_in_page(f"{base}?token={dashboard.token}", self_signed=True) as page:
        assert page.url == base  # the token was traded for the cookie, through the proxy
        cookies = {c["name"]: c for c in page.context.cookies()}
        session = cookies["socialpulse_dashboard"]
        assert session["secure"] is True and session["httpOnly"] is True and session["sameSite"] == "Strict"
        assert dashboard.token not in session["value"]
        page.wait_for_selector("#conn.conn-live", timeout=30_000)

        send(s, [hostile])
        card = page.locator(f'article.alert[data-alert-id="{expected_id}"]')
        card.wait_for(state="visible", timeout=90_000)  # by SSE, through nginx (proxy_buffering off)
        assert card.locator(".alert-text").inner_text().endswith(HOSTILE_TAIL)

        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/ack")) as answer:
            card.locator("button.ack").click()
        assert answer.value.status == 202  # the Origin check accepted https://127.0.0.1:<proxy port>
        card.locator(".status-chip.status-acked").wait_for(timeout=15_000)
        rows = wait_for_rows(s, "SELECT status FROM alerts FINAL WHERE alert_id = %(id)s", {"id": expected_id},
                             [("acked",)], timeout=90)
        assert rows == [("acked",)]
        page.screenshot(path=str(ARTIFACTS / "dashboard-behind-proxy.png"))

        # Sign out: the session ends on the server too, and the page says how to sign in again.
        page.locator("#signout").click()
        page.wait_for_url(f"{base}signed-out", timeout=15_000)
        assert "signed out" in page.locator("h1").inner_text().lower()
        assert "socialpulse_dashboard" not in {c["name"] for c in page.context.cookies()}
        page.context.add_cookies([{"name": session["name"], "value": session["value"], "domain": session["domain"],
                                   "path": "/", "secure": True, "httpOnly": True, "sameSite": "Strict"}])
        replay = page.request.get(f"{base}api/kpis")
        assert replay.status == 401  # the old cookie, put back, is refused: logout revoked it

    log = (workdir / "access.log").read_text()
    assert "GET /api/stream" in log and "POST /logout" in log
    assert dashboard.token not in log and "token=" not in log


def test_rotate_token_reaches_the_running_dashboard_without_a_restart(running_stack, s):
    """`socialpulse dashboard rotate-token` against the dashboard `up` started: within seconds the old token and
    a session made with it are refused, the new one works; the dashboard process is the same."""
    import http.client
    import sys

    from pipeline.ops.stack import settings_env

    def get(path: str, headers: dict) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", s.dashboard_port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            return r.status, r.getheader("Set-Cookie") or ""
        finally:
            conn.close()

    old, pid = running_stack.dashboard_token(), running_stack.dashboard.pid()
    status, set_cookie = get(f"/?token={old}", {})
    assert status == 303
    cookie = set_cookie.split(";", 1)[0]
    assert get("/api/kpis", {"Cookie": cookie})[0] == 200

    env = settings_env(s)
    env.pop("SOCIALPULSE_DASHBOARD_TOKEN", None)
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "dashboard", "rotate-token"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    new = running_stack.dashboard_token()
    assert new != old and f"?token={new}" in out.stdout

    deadline = time.monotonic() + 10
    while get("/api/kpis", {"Authorization": f"Bearer {old}"})[0] != 401:
        assert time.monotonic() < deadline, "the dashboard still takes the old token"
        time.sleep(0.2)
    assert get("/api/kpis", {"Cookie": cookie})[0] == 401
    assert get("/api/kpis", {"Authorization": f"Bearer {new}"})[0] == 200
    assert running_stack.dashboard.pid() == pid  # no restart

    with_env = subprocess.run([sys.executable, "-m", "pipeline.cli", "dashboard", "rotate-token"],
                              env={**env, "SOCIALPULSE_DASHBOARD_TOKEN": new}, capture_output=True, text=True,
                              timeout=60)
    assert with_env.returncode == 2 and len(with_env.stderr.strip().splitlines()) == 1
    assert running_stack.dashboard_token() == new
