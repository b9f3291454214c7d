"""The embedded servers' secured transports without starting them: the broker's SASL_SSL listener config, the SCRAM
credential made at format time (never on a command line), the checks before a launch, and the TLS front of the
embedded ClickHouse server (real loopback sockets)."""
from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from pipeline.ops.services import embedded_kafka as kafka_mod
from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
from pipeline.ops.services.embedded_kafka import (EmbeddedKafka, scram_credential, security_problem,
                                                  server_properties)
from pipeline.ops.services.process import LaunchError, free_port
from pipeline.settings import Settings

PASSWORD = 'pa"ss\\wörd 🙂'


def props_of(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def sasl_ssl(tmp_path: Path, **changes) -> Settings:
    base = dict(data_dir=tmp_path / "data", kafka_bootstrap="127.0.0.1:19092", kafka_controller_port=19093,
                kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                kafka_sasl_username="socialpulse", kafka_sasl_password=PASSWORD, kafka_ssl_cafile=str(tmp_path / "ca.pem"),
                embedded_tls_certfile=str(tmp_path / "cert.pem"), embedded_tls_keyfile=str(tmp_path / "key.pem"))
    base.update(changes)
    return Settings(**base)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its PKCS#8 key."""
    d = tmp_path_factory.mktemp("pki")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")], check=True, capture_output=True,
                   timeout=60)
    return {"cert": d / "cert.pem", "key": d / "key.pem"}


# --- broker config --------------------------------------------------------------------------------------------------

def test_plaintext_broker_has_no_security_lines(tmp_path):
    text = server_properties(Settings(kafka_bootstrap="127.0.0.1:19092", kafka_controller_port=19093), tmp_path)
    assert "sasl" not in text and "ssl." not in text
    assert props_of(text)["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"


def test_sasl_ssl_listener_on_loopback_with_an_internal_plaintext_controller(tmp_path):
    props = props_of(server_properties(sasl_ssl(tmp_path), tmp_path / "logs", tmp_path / "keystore.pem"))
    assert props["listeners"] == "SASL_SSL://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "SASL_SSL://127.0.0.1:19092"
    assert props["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["sasl.enabled.mechanisms"] == props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert (props["ssl.keystore.type"], props["ssl.keystore.location"]) == ("PEM", str(tmp_path / "keystore.pem"))
    assert (props["ssl.truststore.type"], props["ssl.truststore.location"]) == ("PEM", str(tmp_path / "ca.pem"))
    assert props["ssl.client.auth"] == "none"


def test_the_brokers_own_login_is_escaped_for_jaas_and_java_properties(tmp_path):
    jaas = props_of(server_properties(sasl_ssl(tmp_path), tmp_path, tmp_path / "k.pem"))[
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    assert jaas.isascii()
    # what Java's Properties.load reads back: \\ → \, \uXXXX → the character (surrogate pairs joined)
    read = jaas.encode().decode("unicode_escape").encode("utf-16", "surrogatepass").decode("utf-16")
    assert read == ('org.apache.kafka.common.security.scram.ScramLoginModule required username="socialpulse" '
                    'password="pa\\"ss\\\\wörd 🙂";')


def test_scram_credential_is_rfc5802_salted_password(tmp_path):
    value = scram_credential("SCRAM-SHA-512", "socialpulse", PASSWORD, salt=b"0123456789abcdef", iterations=4096)
    expected = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), b"0123456789abcdef", 4096)
    assert value == (f'SCRAM-SHA-512=[name=socialpulse,iterations=4096,salt="{base64.b64encode(b"0123456789abcdef").decode()}",'
                     f'saltedpassword="{base64.b64encode(expected).decode()}"]')
    assert PASSWORD not in value
    sha256 = scram_credential("SCRAM-SHA-256", "u", "p", salt=b"s" * 16)
    assert base64.b64decode(sha256.split('saltedpassword="')[1].rstrip('"]')) == hashlib.pbkdf2_hmac(
        "sha256", b"p", b"s" * 16, kafka_mod.SCRAM_ITERATIONS)


@pytest.mark.parametrize("changes, fragment", [
    ({"kafka_sasl_mechanism": "PLAIN"}, "SCRAM-SHA-256 or SCRAM-SHA-512 only"),
    ({"kafka_sasl_username": ""}, "SOCIALPULSE_KAFKA_SASL_USERNAME"),
    ({"kafka_sasl_username": "a,b"}, "SOCIALPULSE_KAFKA_SASL_USERNAME"),
    ({"kafka_sasl_password": ""}, "SOCIALPULSE_KAFKA_SASL_PASSWORD"),
    ({"embedded_tls_keyfile": ""}, "SOCIALPULSE_EMBEDDED_TLS_KEYFILE"),
])
def test_what_the_embedded_broker_cannot_serve_is_named(tmp_path, changes, fragment):
    assert fragment in security_problem(sasl_ssl(tmp_path, **changes))
    assert security_problem(sasl_ssl(tmp_path)) is None
    assert security_problem(Settings()) is None


def test_storage_format_gets_the_scram_user_through_a_private_argfile(tmp_path, pki, monkeypatch):
    """The storage tool's arguments (with the salted password) are in a 0600 @argfile, removed after; the
    command line, the properties and the keystore carry no salted password; the keystore is key + chain, 0600."""
    s = sasl_ssl(tmp_path, embedded_tls_certfile=str(pki["cert"]), embedded_tls_keyfile=str(pki["key"]),
                 kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_controller_port=free_port())
    kafka = EmbeddedKafka(s)
    monkeypatch.setattr(kafka, "classpath", lambda: "/nowhere/*")
    seen = {}

    def fake_run(argv, **kwargs):
        argfile = Path(argv[-1][1:])
        seen.update(argv=argv, mode=argfile.stat().st_mode & 0o777, args=argfile.read_text().splitlines())
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(kafka_mod.subprocess, "run", fake_run)
    props = kafka.configure()
    assert seen["argv"][-1].startswith("@") and seen["mode"] == 0o600
    assert not Path(seen["argv"][-1][1:]).exists()
    args = [a.strip("'") for a in seen["args"]]
    assert args[:3] == [kafka_mod.STORAGE_TOOL, "format", "--standalone"] and "--add-scram" in args
    scram = args[args.index("--add-scram") + 1]
    assert scram.startswith("SCRAM-SHA-512=[name=socialpulse,iterations=") and PASSWORD not in scram
    assert not any("SCRAM" in a or PASSWORD in a for a in seen["argv"])
    for path in (props, kafka.home / "keystore.pem"):
        assert path.stat().st_mode & 0o777 == 0o600
    keystore = (kafka.home / "keystore.pem").read_text()
    assert keystore.index("BEGIN PRIVATE KEY") < keystore.index("BEGIN CERTIFICATE")


def test_a_key_the_broker_cannot_read_is_refused_before_formatting(tmp_path, pki):
    rsa = tmp_path / "rsa.pem"
    rsa.write_text("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
    s = sasl_ssl(tmp_path, embedded_tls_certfile=str(pki["cert"]), embedded_tls_keyfile=str(rsa))
    with pytest.raises(LaunchError, match="PKCS#8"):
        EmbeddedKafka(s).configure()


# --- ClickHouse TLS front -------------------------------------------------------------------------------------------

def listening_addresses(port: int) -> set[str]:
    """The IPv4/IPv6 addresses a socket listens on at `port` (Linux /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]) if len(raw) == 4 else address)
    return found


def test_embedded_clickhouse_with_tls_needs_its_certificate(tmp_path):
    s = Settings(data_dir=tmp_path / "data", clickhouse_port=free_port(), clickhouse_http_port=free_port(),
                 clickhouse_secure=True, clickhouse_password="pw-123")
    with pytest.raises(LaunchError, match="SOCIALPULSE_EMBEDDED_TLS_CERTFILE"):
        EmbeddedClickHouse(s).start(timeout=1)


def test_tls_front_forwards_both_ways_on_loopback_only(pki):
    from pipeline.ops.services.tls_proxy import serve_tls

    backend = socket.create_server(("127.0.0.1", 0))
    target = backend.getsockname()[1]

    def echo() -> None:
        conn, _ = backend.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data.upper())

    threading.Thread(target=echo, daemon=True).start()
    front = free_port()
    serve_tls([(front, target)], str(pki["cert"]), str(pki["key"]))
    assert listening_addresses(front) == {"127.0.0.1"}
    ctx = ssl.create_default_context(cafile=str(pki["cert"]))
    with socket.create_connection(("127.0.0.1", front), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        payload = b"hello clickhouse " * 10000
        tls.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += tls.recv(65536)
        assert got == payload.upper() and tls.version() in ("TLSv1.2", "TLSv1.3")
    backend.close()


def test_tls_front_refuses_clients_that_do_not_trust_it(pki, tmp_path):
    from pipeline.ops.services.tls_proxy import serve_tls

    front = free_port()
    serve_tls([(front, free_port())], str(pki["cert"]), str(pki["key"]))
    with socket.create_connection(("127.0.0.1", front), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")
