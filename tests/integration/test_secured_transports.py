"""Secured transports for real: the embedded Kafka broker with SASL_SSL (SCRAM-SHA-512) and the embedded ClickHouse
server with TLS and a password, on certificates made here with openssl (a CA, a server certificate for 127.0.0.1 and
localhost, and a second CA that signed nothing of theirs).

`Stack.up` (topics, migrations, worker, dashboard) runs over them; `socialpulse customers load` and `replay` (CLI,
kafka-python) feed the worker (faust/aiokafka), whose sink writes ClickHouse over TLS; the dashboard's feed
(aiokafka) brings the alert to /api/stream and its HTTP ingest produces over SASL_SSL. Then a wrong password or a CA
that did not sign the server's certificate, for each server, makes the CLI exit 2 with one line that names the
problem, no traceback and no secret.

Runs on a stack of its own (data dir, ports), so the session stack stays PLAINTEXT."""
from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pipeline.settings import Settings
from tests.conftest import ROOT, SAMPLE_BRANDS, free_port
from tests.integration.conftest import wait_for_rows
from tests.integration.dashboard_thread import sse_events

pytestmark = pytest.mark.integration

SASL_PASSWORD = "sp-" + uuid.uuid4().hex  # a fresh broker's SCRAM user: made when its storage is formatted


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_pki(d: Path) -> dict[str, Path]:
    """A CA, a server certificate it signed for 127.0.0.1/localhost (P-256 keys, PKCS#8) and an unrelated CA."""
    d.mkdir(parents=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.pem"),
                 "-subj", f"/CN=socialpulse test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", *ec, "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"), "-subj", "/CN=localhost")
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
             "-CAcreateserial", "-days", "2", "-extfile", str(d / "server.ext"), "-out", str(d / "server.pem"))
    return {"ca": d / "ca.pem", "other_ca": d / "other-ca.pem", "cert": d / "server.pem", "key": d / "server.key"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """`Stack.up` with SASL_SSL to Kafka and TLS + password to ClickHouse; yields (stack, pki)."""
    from pipeline.ops.services.embedded_kafka import EmbeddedKafka
    from pipeline.ops.stack import Stack

    missing = [tool for tool in ("java", "openssl") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"secured transports need {' and '.join(missing)} (the embedded broker, the test certificates)")
    d = tmp_path_factory.mktemp("secured")
    pki = make_pki(d / "pki")
    s = Settings(data_dir=d / "data", kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_controller_port=free_port(),
                 clickhouse_port=free_port(), clickhouse_http_port=free_port(), worker_port=free_port(),
                 dashboard_port=free_port(), brands_file=str(SAMPLE_BRANDS), partitions=2, sink_flush_interval=0.3,
                 kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                 kafka_sasl_username="socialpulse", kafka_sasl_password=SASL_PASSWORD, kafka_ssl_cafile=str(pki["ca"]),
                 clickhouse_secure=True, clickhouse_verify=True, clickhouse_ca_certs=str(pki["ca"]),
                 embedded_tls_certfile=str(pki["cert"]), embedded_tls_keyfile=str(pki["key"]))
    stack = Stack(s)  # the embedded ClickHouse's user `socialpulse` and its generated password
    assert stack.s.clickhouse_password and stack.s.clickhouse_user == "socialpulse"
    try:
        EmbeddedKafka(stack.s).start(timeout=120)  # a cold JVM on a busy machine: more than up's 60 s
        stack.up(lambda _line: None)
        yield stack, pki
    finally:
        stack.down(lambda _line: None)


def cli(stack, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`socialpulse ARGS` in a child process with the stack's settings (plus `env`), as a user would run it."""
    from pipeline.ops.stack import settings_env

    full = {**settings_env(stack.s), "SOCIALPULSE_LOG_LEVEL": "warn", **env}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=full, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_pipeline_runs_end_to_end_over_sasl_ssl_and_tls(secured, tmp_path):
    stack, _ = secured
    s = stack.s
    brand = "sec" + uuid.uuid4().hex[:8]
    cid, handle = "C-" + uuid.uuid4().hex[:8], "sec_" + uuid.uuid4().hex[:8]
    crm = tmp_path / "crm.jsonl"
    crm.write_text(json.dumps({"customer_id": cid, "name": "Sam Secure", "tier": "gold", "lifetime_value": 900,
                               "emails": [f"{handle}@example.com"],
                               "identities": [{"channel": "twitter", "handle": "@" + handle}]}) + "\n")
    texts = ["Lovely crew and a smooth flight, thank you!", "ok", "Seats were fine, the food was average",
             "My bag was lost and nobody answers, I want a refund now!"]
    docs = [{"id": f"{brand}-{i}", "channel": "support" if i == 3 else "twitter", "author": f"{handle}{i}",
             "brand": brand, "text": t, "created_at": f"2026-11-20T10:{i:02d}:00Z"} for i, t in enumerate(texts)]
    mentions = tmp_path / "mentions.jsonl"
    mentions.write_text("".join(json.dumps(d) + "\n" for d in docs))

    # The snapshot comes from ClickHouse (TLS); the feed is live once its aiokafka consumer joined over SASL_SSL
    # (just after `up`, it may join after the first page connects: the stream then says so with a `live` event)
    events = sse_events(stack.s.dashboard_port, stack.dashboard_token(), time.monotonic() + 90)
    name, snapshot = next(events)
    assert name == "snapshot"
    if not snapshot["live"]:
        assert next(name for name, _ in events) == "live", "the dashboard's feed never went live"

    loaded = cli(stack, "customers", "load", str(crm), "--no-progress")
    assert loaded.returncode == 0 and ": 2 sent" in loaded.stdout, loaded.stdout + loaded.stderr
    replayed = cli(stack, "replay", str(mentions), "--no-progress")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    alert = next((data for name, data in events if name == "alert" and data["brand"] == brand), None)
    events.close()
    assert alert is not None, "the complaint's alert never reached the dashboard's /api/stream"
    assert alert["mention_id"] == f"support:{brand}-3"

    # the sink wrote every mention and the CRM customer, read back over TLS with the password
    assert wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand},
                         [(len(docs),)]) == [(len(docs),)]
    assert wait_for_rows(s, "SELECT tier FROM customers FINAL WHERE customer_id = %(c)s", {"c": cid},
                         [("gold",)]) == [("gold",)]

    # the dashboard's HTTP ingest produces over SASL_SSL: 202 only once the broker acknowledged
    conn = http.client.HTTPConnection("127.0.0.1", s.dashboard_port, timeout=20)
    extra = {**docs[0], "id": f"{brand}-http"}
    conn.request("POST", "/api/mentions", body=json.dumps(extra).encode(),
                 headers={"Authorization": f"Bearer {stack.ingest_token()}", "Content-Type": "application/json"})
    reply = conn.getresponse()
    assert (reply.status, json.loads(reply.read())) == (202, {"accepted": 1, "rejected": []})
    conn.close()
    assert wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand},
                         [(len(docs) + 1,)]) == [(len(docs) + 1,)]

    # neither password is in a log of the stack or on a command line of its processes
    secrets = (SASL_PASSWORD, s.clickhouse_password)
    for log in stack.run_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), log
    for proc in (stack.kafka.proc, stack.clickhouse.proc, stack.worker, stack.dashboard):
        argv = Path(f"/proc/{proc.pid()}/cmdline").read_bytes().decode(errors="replace")
        assert not any(secret in argv for secret in secrets), proc.name


def one_error_line(stack, out: subprocess.CompletedProcess, *secrets: str) -> str:
    """The CLI's single `error:` line (exit 2, no traceback, no secret anywhere in its output)."""
    text = out.stdout + out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), (out.returncode, text)
    assert "Traceback" not in text
    for secret in (SASL_PASSWORD, stack.s.clickhouse_password, *secrets):
        assert secret not in text
    return lines[0]


@pytest.mark.parametrize("problem", ["wrong password", "untrusted certificate"])
def test_kafka_refusals_are_one_clear_line(secured, tmp_path, problem):
    stack, pki = secured
    mentions = tmp_path / "one.jsonl"
    mentions.write_text(json.dumps({"id": "x1", "channel": "twitter", "author": "a", "text": "hi"}) + "\n")
    wrong = "not-" + uuid.uuid4().hex
    env = ({"SOCIALPULSE_KAFKA_SASL_PASSWORD": wrong} if problem == "wrong password"
           else {"SOCIALPULSE_KAFKA_SSL_CAFILE": str(pki["other_ca"])})
    started = time.monotonic()
    line = one_error_line(stack, cli(stack, "replay", str(mentions), "--no-progress", **env), wrong)
    assert time.monotonic() - started < 30  # not kafka-python's 60 s metadata timeout
    assert f"Kafka at {stack.s.kafka_bootstrap}" in line
    if problem == "wrong password":
        assert "SASL authentication failed for user 'socialpulse'" in line and "KAFKA_SASL_PASSWORD" in line
    else:
        assert "TLS certificate verify failed" in line and "SOCIALPULSE_KAFKA_SSL_CAFILE" in line


def test_up_with_a_wrong_kafka_password_stops_at_the_topics(secured):
    stack, _ = secured
    wrong = "not-" + uuid.uuid4().hex
    out = cli(stack, "up", SOCIALPULSE_KAFKA_SASL_PASSWORD=wrong)
    assert "SASL authentication failed for user 'socialpulse'" in one_error_line(stack, out, wrong)
    assert "kafka       running" in out.stdout and "worker" not in out.stdout


def test_status_with_a_wrong_kafka_password_names_it(secured):
    """`status` prints the components, then the reason it cannot read the lag (exit 2, not 0)."""
    stack, _ = secured
    wrong = "not-" + uuid.uuid4().hex
    out = cli(stack, "status", SOCIALPULSE_KAFKA_SASL_PASSWORD=wrong)
    assert "SASL authentication failed for user 'socialpulse'" in one_error_line(stack, out, wrong)
    assert "lag         unknown" in out.stdout


@pytest.mark.parametrize("problem", ["wrong password", "untrusted certificate"])
def test_clickhouse_refusals_are_one_clear_line(secured, problem):
    stack, pki = secured
    wrong = "not-" + uuid.uuid4().hex
    env = ({"SOCIALPULSE_CLICKHOUSE_PASSWORD": wrong} if problem == "wrong password"
           else {"SOCIALPULSE_CLICKHOUSE_CA_CERTS": str(pki["other_ca"])})
    line = one_error_line(stack, cli(stack, "migrate", **env), wrong)
    assert f"ClickHouse at 127.0.0.1:{stack.s.clickhouse_port}" in line
    if problem == "wrong password":
        assert "authentication failed for user 'socialpulse'" in line and "CLICKHOUSE_PASSWORD" in line
    else:
        assert "TLS certificate verify failed" in line and "SOCIALPULSE_CLICKHOUSE_CA_CERTS" in line


def test_plain_text_clients_get_nothing(secured, tmp_path):
    """Neither server answers a client without TLS and credentials: no plain-text way around them."""
    stack, _ = secured
    line = one_error_line(stack, cli(stack, "migrate", SOCIALPULSE_CLICKHOUSE_SECURE="false"))
    assert "closed the connection" in line and "SOCIALPULSE_CLICKHOUSE_SECURE (false)" in line
    mentions = tmp_path / "one.jsonl"
    mentions.write_text(json.dumps({"id": "x1", "channel": "twitter", "author": "a", "text": "hi"}) + "\n")
    line = one_error_line(stack, cli(stack, "replay", str(mentions), "--no-progress",
                                     SOCIALPULSE_KAFKA_SECURITY_PROTOCOL="PLAINTEXT"))
    assert "closed the connection during the handshake" in line
    assert "SOCIALPULSE_KAFKA_SECURITY_PROTOCOL (PLAINTEXT)" in line
