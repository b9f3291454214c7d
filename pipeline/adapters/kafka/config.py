"""Kafka client configuration from Settings, for kafka-python (tools) and aiokafka/Faust (worker)."""
from __future__ import annotations

import ssl
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from pipeline.settings import Settings


def ssl_context(s: Settings) -> Optional[ssl.SSLContext]:
    """A TLS context when the protocol uses SSL, else None."""
    if "SSL" not in s.kafka_security_protocol:
        return None
    ctx = ssl.create_default_context(cafile=s.kafka_ssl_cafile or None)
    if s.kafka_ssl_certfile:
        ctx.load_cert_chain(s.kafka_ssl_certfile, s.kafka_ssl_keyfile or None)
    return ctx


def kafka_python_config(s: Settings) -> dict[str, Any]:
    """Keyword arguments shared by kafka-python's KafkaProducer/KafkaConsumer/KafkaAdminClient."""
    cfg: dict[str, Any] = {"bootstrap_servers": s.kafka_bootstrap.split(","),
                           "security_protocol": s.kafka_security_protocol}
    if s.kafka_security_protocol.startswith("SASL"):
        cfg.update(sasl_mechanism=s.kafka_sasl_mechanism, sasl_plain_username=s.kafka_sasl_username,
                   sasl_plain_password=s.kafka_sasl_password)
    if "SSL" in s.kafka_security_protocol:
        cfg.update(ssl_cafile=s.kafka_ssl_cafile or None, ssl_certfile=s.kafka_ssl_certfile or None,
                   ssl_keyfile=s.kafka_ssl_keyfile or None, ssl_check_hostname=True)
    return cfg


def faust_broker_config(s: Settings) -> dict[str, Any]:
    """`broker` and `broker_credentials` arguments for faust.App."""
    import faust

    broker = ";".join(f"kafka://{server.strip()}" for server in s.kafka_bootstrap.split(","))
    creds: Any = None
    ctx = ssl_context(s)
    if s.kafka_security_protocol.startswith("SASL"):
        mechanism = s.kafka_sasl_mechanism.upper()
        if mechanism == "PLAIN":
            creds = faust.SASLCredentials(username=s.kafka_sasl_username, password=s.kafka_sasl_password,
                                          ssl_context=ctx)
        else:
            creds = faust.SASLCredentials(username=s.kafka_sasl_username, password=s.kafka_sasl_password,
                                          ssl_context=ctx, mechanism=mechanism)
    elif ctx is not None:
        creds = faust.SSLCredentials(ctx)
    return {"broker": broker, "broker_credentials": creds}


def aiokafka_config(s: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka consumers/producers used beside Faust (identity table, dashboard)."""
    cfg: dict[str, Any] = {"bootstrap_servers": s.kafka_bootstrap, "security_protocol": s.kafka_security_protocol}
    if s.kafka_security_protocol.startswith("SASL"):
        cfg.update(sasl_mechanism=s.kafka_sasl_mechanism, sasl_plain_username=s.kafka_sasl_username,
                   sasl_plain_password=s.kafka_sasl_password)
    ctx = ssl_context(s)
    if ctx is not None:
        cfg["ssl_context"] = ctx
    return cfg


@contextmanager
def bulk_producer(s: Settings, producer: Any = None, **overrides: Any) -> Iterator[Any]:
    """The given kafka-python producer, or a new one for bulk loads (acks=all, 20 ms linger, 512 KiB batches)
    that is closed on exit. Flushed when the block ends without an exception. A new one is made after a check that
    the broker accepts the TLS and SASL settings (else the first send would wait 60 s, then time out)."""
    from kafka import KafkaProducer

    from pipeline.adapters.kafka.probe import check_access

    own = producer is None
    if own:
        check_access(kafka_python_config(s))
        producer = KafkaProducer(**{**kafka_python_config(s), "acks": "all", "linger_ms": 20,
                                    "batch_size": 512 << 10, **overrides})
    try:
        yield producer
        producer.flush()
    finally:
        if own:
            producer.close()
