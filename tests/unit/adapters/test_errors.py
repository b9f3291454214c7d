"""The one-line explanation of environment errors (pipeline/adapters/errors.py) and the Kafka access probe, on
built exceptions and loopback sockets; no server runs. The real servers' refusals: test_secured_transports."""
from __future__ import annotations

import socket
import ssl
import threading

import pytest
from clickhouse_driver.errors import NetworkError, ServerException
from kafka.errors import IncompatibleBrokerVersion, NoBrokersAvailable, SaslAuthenticationFailedError

from pipeline.adapters.errors import CLICKHOUSE, KAFKA, explain, service_of
from pipeline.adapters.kafka.probe import access_problem, check_access, is_refusal
from pipeline.adapters.net import free_port
from pipeline.settings import Settings

SECRET = "s3cret-Pa55"
VERIFY = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)"


def secured(**changes) -> Settings:
    base = dict(kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_security_protocol="SASL_SSL",
                kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="svc", kafka_sasl_password=SECRET,
                clickhouse_host="ch.example", clickhouse_port=9440, clickhouse_user="reader",
                clickhouse_password=SECRET, clickhouse_secure=True)
    base.update(changes)
    return Settings(**base)


def raised_in(module: str, exc: BaseException) -> BaseException:
    """`exc` as raised by code of `module` (what service_of reads from the traceback)."""
    scope = {"__name__": module, "exc": exc}
    exec(compile("def boom():\n    raise exc\n", f"<{module}>", "exec"), scope)
    try:
        scope["boom"]()
    except BaseException as caught:  # noqa: BLE001
        return caught
    raise AssertionError("not raised")


def line_for(exc: BaseException, s: Settings) -> str:
    line = explain(exc, s)
    assert line is not None and "\n" not in line and SECRET not in line, line
    return line


# --- Kafka --------------------------------------------------------------------------------------------------------

def test_refused_sasl_login_names_user_mechanism_and_variables():
    s = secured()
    line = line_for(SaslAuthenticationFailedError("Authentication failed during authentication due to invalid "
                                                  "credentials with SASL mechanism SCRAM-SHA-512"), s)
    assert line == (f"Kafka at {s.kafka_bootstrap}: SASL authentication failed for user 'svc' (SCRAM-SHA-512) — "
                    "check SOCIALPULSE_KAFKA_SASL_USERNAME / SOCIALPULSE_KAFKA_SASL_PASSWORD.")


def test_untrusted_broker_certificate_from_kafka_python_frames():
    exc = raised_in("kafka.conn", ssl.SSLCertVerificationError(1, VERIFY))
    exc.verify_message = "unable to get local issuer certificate"
    assert service_of(exc) == KAFKA
    line = line_for(exc, secured())
    assert "TLS certificate verify failed (unable to get local issuer certificate)" in line
    assert "SOCIALPULSE_KAFKA_SSL_CAFILE" in line


def test_a_hidden_refusal_is_found_by_probing(monkeypatch):
    """kafka-python says "incompatible broker" after a refused login: the probe's answer is shown instead."""
    import pipeline.adapters.kafka.probe as probe

    monkeypatch.setattr(probe, "access_problem", lambda cfg, timeout=5.0: SaslAuthenticationFailedError("nope"))
    line = line_for(IncompatibleBrokerVersion("Kafka broker does not support the 'MetadataRequest_v0'"), secured())
    assert "SASL authentication failed for user 'svc'" in line


def test_an_unreachable_broker_keeps_the_running_hint():
    s = secured(kafka_security_protocol="PLAINTEXT")  # nothing listens on the free port: refused
    line = line_for(NoBrokersAvailable(), s)
    assert line.startswith("NoBrokersAvailable — is the stack running?") and "socialpulse up" in line


def test_a_broker_that_drops_the_handshake_names_the_protocol():
    """Something accepts and closes at once (a TLS listener to a plain-text client): protocol mismatch."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def drop() -> None:
        try:
            while True:
                conn, _ = server.accept()
                conn.recv(1024)  # the client's first request, in a protocol this "broker" does not speak
                conn.close()
        except OSError:  # the test closed the server
            pass

    threading.Thread(target=drop, daemon=True).start()
    try:
        line = line_for(NoBrokersAvailable(), secured(kafka_security_protocol="PLAINTEXT",
                                                      kafka_bootstrap=f"127.0.0.1:{port}"))
    finally:
        server.close()
    assert "closed the connection during the handshake" in line
    assert "SOCIALPULSE_KAFKA_SECURITY_PROTOCOL (PLAINTEXT) match" in line and "MECHANISM" not in line


def test_a_bad_client_setting_from_kafka_frames_is_not_called_an_outage():
    assert explain(raised_in("kafka.producer.kafka", ValueError("bad acks")), secured()) is None


# --- ClickHouse ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [516, 193, 194, 192])
def test_clickhouse_refused_credentials(code):
    exc = ServerException("DB::Exception: reader: Authentication failed: password is incorrect, or there is no user "
                          "with such name.\n\nIf you have installed ClickHouse and forgot password…", code)
    assert line_for(exc, secured()) == ("ClickHouse at ch.example:9440: authentication failed for user 'reader' — "
                                        "check SOCIALPULSE_CLICKHOUSE_USER / SOCIALPULSE_CLICKHOUSE_PASSWORD.")


def test_clickhouse_untrusted_certificate():
    line = line_for(NetworkError(f"{VERIFY} (ch.example:9440)"), secured())
    assert line == ("ClickHouse at ch.example:9440: TLS certificate verify failed (unable to get local issuer "
                    "certificate) — SOCIALPULSE_CLICKHOUSE_CA_CERTS must hold the CA that signed the server's "
                    "certificate.")


def test_a_certificate_for_another_name_says_so():
    mismatch = "IP address mismatch, certificate is not valid for '10.1.2.3'."
    line = line_for(NetworkError(f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {mismatch} "
                                 "(_ssl.c:1006) (10.1.2.3:9440)"), secured(clickhouse_host="10.1.2.3"))
    assert f"({mismatch})" in line and "certificate must name the host" in line and "CA_CERTS" not in line
    exc = raised_in("kafka.conn", ssl.SSLCertVerificationError(1, f"certificate verify failed: {mismatch}"))
    exc.verify_message = mismatch
    assert "the broker's certificate must name" in line_for(exc, secured())


def test_clickhouse_plain_client_on_a_tls_port():
    exc = raised_in("clickhouse_driver.bufferedreader", EOFError("Unexpected EOF while reading bytes"))
    assert service_of(exc) == CLICKHOUSE
    line = line_for(exc, secured(clickhouse_secure=False))
    assert "closed the connection before answering" in line and "SOCIALPULSE_CLICKHOUSE_SECURE (false)" in line


def test_clickhouse_unreachable_and_other_server_errors():
    line = line_for(NetworkError("Connection refused (ch.example:9440)"), secured())  # str() adds the code
    assert line.startswith("Code: 210. Connection refused (ch.example:9440) — is the stack running?")
    assert explain(ServerException("DB::Exception: Syntax error", 62), secured()) is None  # a bug: traceback


def test_other_errors_are_not_explained():
    assert explain(KeyError("x"), secured()) is None
    assert explain(raised_in("pipeline.ops.demo", RuntimeError("boom")), secured()) is None
    assert explain(ConnectionRefusedError("refused"), secured()).endswith("SOCIALPULSE_CLICKHOUSE_HOST).")


# --- probe --------------------------------------------------------------------------------------------------------

def test_probe_reports_a_refused_connection_and_check_access_lets_it_pass():
    s = secured(kafka_security_protocol="SASL_PLAINTEXT")
    from pipeline.adapters.kafka.config import kafka_python_config

    problem = access_problem(kafka_python_config(s), timeout=2)
    assert problem is not None and "ECONNREFUSED" in str(problem) and not is_refusal(problem)
    check_access(kafka_python_config(s))  # unreachable is the client's own error, not raised here


def test_check_access_raises_the_refusal(monkeypatch):
    import pipeline.adapters.kafka.probe as probe

    monkeypatch.setattr(probe, "access_problem", lambda cfg, timeout=5.0: SaslAuthenticationFailedError("no"))
    with pytest.raises(SaslAuthenticationFailedError):
        check_access({"security_protocol": "SASL_SSL", "bootstrap_servers": ["127.0.0.1:1"]})
    calls = []
    monkeypatch.setattr(probe, "access_problem", lambda cfg, timeout=5.0: calls.append(cfg))
    check_access({"security_protocol": "PLAINTEXT", "bootstrap_servers": ["127.0.0.1:1"]})
    assert calls == []  # PLAINTEXT: no probe
