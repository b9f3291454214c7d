"""One line, instead of a traceback, for the environment errors a command meets: a server that is not reachable,
credentials it refuses, a TLS certificate the client does not trust, a TLS/plain-text mismatch.

`socialpulse` prints `explain(exc, settings)` (pipeline/cli.py, common_options); None means "not an environment
error" (a bug: the traceback is shown). The lines name the server, the problem and the variables to check; they
never contain a password."""
from __future__ import annotations

import ssl
from typing import Optional

from pipeline.settings import Settings

KAFKA, CLICKHOUSE = "Kafka", "ClickHouse"
_CLICKHOUSE_AUTH_CODES = {192, 193, 194, 516}  # UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED
_RUNNING_HINT = ("is the stack running? Start it with `socialpulse up` "
                 "(or check SOCIALPULSE_KAFKA_BOOTSTRAP / SOCIALPULSE_CLICKHOUSE_HOST).")


def explain(exc: BaseException, s: Settings) -> Optional[str]:
    """The line to show for `exc`, or None when it is not an environment error."""
    service = service_of(exc)
    if service == CLICKHOUSE:
        return _clickhouse(exc, s)
    if service == KAFKA:
        return _kafka(exc, s)
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return f"{exc} — {_RUNNING_HINT}"
    return None


def service_of(exc: BaseException) -> Optional[str]:
    """Kafka or ClickHouse when `exc` comes from one of their clients (by type, else by the modules it was raised
    through: a TLS error is a plain `ssl.SSLError`)."""
    from clickhouse_driver.errors import Error as ClickHouseError
    from kafka.errors import KafkaError

    if isinstance(exc, ClickHouseError):
        return CLICKHOUSE
    if isinstance(exc, KafkaError):
        return KAFKA
    tb, found = exc.__traceback__, None
    while tb is not None:  # the innermost client frame decides
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("clickhouse_driver") or module.startswith("pipeline.adapters.clickhouse"):
            found = CLICKHOUSE
        elif module.split(".")[0] in {"kafka", "aiokafka", "faust"} or module.startswith("pipeline.adapters.kafka"):
            found = KAFKA
        tb = tb.tb_next
    return found


def _kafka(exc: BaseException, s: Settings) -> Optional[str]:
    from aiokafka.errors import KafkaError as AIOKafkaError
    from kafka.errors import KafkaError

    from pipeline.adapters.kafka.config import kafka_python_config
    from pipeline.adapters.kafka.probe import access_problem, is_refusal

    if not isinstance(exc, (KafkaError, AIOKafkaError, ssl.SSLError, ConnectionError, TimeoutError)):
        return None  # e.g. a ValueError of a bad client setting: its own message
    where, proto = f"Kafka at {s.kafka_bootstrap}", s.kafka_security_protocol
    # kafka-python reports a refused login as a timeout or an "incompatible broker": one connection tells why
    reason = exc if is_refusal(exc) else (access_problem(kafka_python_config(s)) or exc)
    if _is_auth(reason):
        return (f"{where}: SASL authentication failed for user {s.kafka_sasl_username!r} "
                f"({s.kafka_sasl_mechanism}) — check SOCIALPULSE_KAFKA_SASL_USERNAME / SOCIALPULSE_KAFKA_SASL_PASSWORD.")
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (f"{where}: TLS certificate verify failed ({reason.verify_message}) — "
                + _verify_hint(str(reason.verify_message), "SOCIALPULSE_KAFKA_SSL_CAFILE", "broker"))
    if isinstance(reason, ssl.SSLError):
        return (f"{where}: TLS handshake failed ({_ssl_reason(reason)}) — does SOCIALPULSE_KAFKA_SECURITY_PROTOCOL "
                f"({proto}) match the broker's listener?")
    if any(w in str(reason) for w in ("disconnected", "reset by peer")):  # accepted, then dropped: another protocol
        mechanism = f" and SOCIALPULSE_KAFKA_SASL_MECHANISM ({s.kafka_sasl_mechanism})" if "SASL" in proto else ""
        return (f"{where} closed the connection during the handshake — does SOCIALPULSE_KAFKA_SECURITY_PROTOCOL "
                f"({proto}){mechanism} match the broker's listener?")
    return f"{_one_line(exc) or type(exc).__name__} — {_RUNNING_HINT}"


def _clickhouse(exc: BaseException, s: Settings) -> Optional[str]:
    from clickhouse_driver.errors import NetworkError, ServerException, SocketTimeoutError

    where = f"ClickHouse at {s.clickhouse_host}:{s.clickhouse_port}"
    if isinstance(exc, ServerException) and exc.code in _CLICKHOUSE_AUTH_CODES:
        return (f"{where}: authentication failed for user {s.clickhouse_user!r} — check SOCIALPULSE_CLICKHOUSE_USER / "
                "SOCIALPULSE_CLICKHOUSE_PASSWORD.")
    text = _one_line(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, ssl.SSLCertVerificationError):
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl.c", 1)[0].strip(" :")
        return (f"{where}: TLS certificate verify failed ({detail or 'untrusted'}) — "
                + _verify_hint(detail, "SOCIALPULSE_CLICKHOUSE_CA_CERTS", "server"))
    if isinstance(exc, ssl.SSLError) or "[SSL" in text:
        return (f"{where}: TLS handshake failed ({text}) — does SOCIALPULSE_CLICKHOUSE_SECURE "
                f"({str(s.clickhouse_secure).lower()}) match the server's port?")
    if isinstance(exc, EOFError):
        return (f"{where} closed the connection before answering — does SOCIALPULSE_CLICKHOUSE_SECURE "
                f"({str(s.clickhouse_secure).lower()}) match the server's port?")
    if isinstance(exc, (NetworkError, SocketTimeoutError, ConnectionError, TimeoutError)):
        return f"{text} — {_RUNNING_HINT}"
    return None


def _is_auth(exc: Optional[BaseException]) -> bool:
    from kafka.errors import SaslAuthenticationFailedError

    return isinstance(exc, SaslAuthenticationFailedError) or "Authentication failed" in str(exc or "")


def _verify_hint(detail: str, ca_variable: str, what: str) -> str:
    if "mismatch" in detail:  # trusted, but issued for another name
        return f"the {what}'s certificate must name the host or address the client connects to."
    return f"{ca_variable} must hold the CA that signed the {what}'s certificate."


def _ssl_reason(exc: ssl.SSLError) -> str:
    return exc.reason or _one_line(exc)


def _one_line(exc: BaseException) -> str:
    """The first line of the message (server messages add paragraphs of advice)."""
    return (str(exc).strip().splitlines() or [""])[0]
