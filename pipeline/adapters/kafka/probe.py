"""One connection to Kafka the way the clients make it (TLS, SASL), to learn why access fails (I/O).

kafka-python retries a refused SASL login until its own timeout and then reports something else (a metadata timeout
after 60 s, "broker does not support MetadataRequest_v0"): the reason is only logged. One BrokerConnection shows it
at once: `SaslAuthenticationFailedError`, the `ssl.SSLError` of an untrusted certificate, a refused connection."""
from __future__ import annotations

import socket
import ssl
from typing import Any, Optional


def access_problem(client_config: dict[str, Any], timeout: float = 5.0) -> Optional[BaseException]:
    """Connect to the first bootstrap server with a kafka-python client configuration (`kafka_python_config`:
    protocol, TLS, SASL); the error that stopped the connection (TLS handshake, SASL login, refused…), or None once
    it is made."""
    from kafka.conn import BrokerConnection

    class Probe(BrokerConnection):
        error: Optional[BaseException] = None

        def close(self, error=None):  # noqa: D102 - keeps the first reason kafka-python closes the socket for
            if error is not None and self.error is None:
                self.error = error
            super().close(error)

    cfg = dict(client_config)
    host, _, port = cfg.pop("bootstrap_servers")[0].strip().rpartition(":")
    conn = Probe(host.strip("[]") or "localhost", int(port or 9092), socket.AF_UNSPEC, **cfg)
    try:
        if conn.connect_blocking(timeout=timeout):
            return None
        return conn.error or TimeoutError(f"no connection within {timeout:.0f}s")
    except (ssl.SSLError, OSError) as exc:  # kafka-python raises TLS errors other than a closed socket
        return exc
    finally:
        conn.close()


def is_refusal(exc: Optional[BaseException]) -> bool:
    """True for a definite "no" from the broker or its TLS layer (retrying will not help): refused credentials,
    an untrusted certificate, a failed handshake."""
    from kafka.errors import SaslAuthenticationFailedError

    return isinstance(exc, (SaslAuthenticationFailedError, ssl.SSLError))


def check_access(client_config: dict[str, Any]) -> None:
    """With TLS or SASL configured, raise the broker's refusal (see `is_refusal`) before a client would wait out
    its timeouts on it; an unreachable broker is left to the client (its own error). PLAINTEXT: no check."""
    if client_config.get("security_protocol", "PLAINTEXT") == "PLAINTEXT":
        return
    problem = access_problem(client_config)
    if is_refusal(problem):
        raise problem
