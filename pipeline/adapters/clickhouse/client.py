"""The one ClickHouse client factory (clickhouse-driver, native TCP)."""
from __future__ import annotations

from clickhouse_driver import Client

from pipeline.settings import Settings


def client(s: Settings, *, database: bool = True, **extra) -> Client:
    """A clickhouse-driver Client for the configured server; `database=False` connects without selecting
    the project database (used before the first migration creates it)."""
    kwargs = dict(host=s.clickhouse_host, port=s.clickhouse_port, user=s.clickhouse_user,
                  password=s.clickhouse_password, secure=s.clickhouse_secure, verify=s.clickhouse_verify,
                  connect_timeout=5, send_receive_timeout=60, client_name="socialpulse",
                  settings={"use_numpy": False})
    if s.clickhouse_ca_certs:
        kwargs["ca_certs"] = s.clickhouse_ca_certs
    if database:
        kwargs["database"] = s.clickhouse_database
    kwargs.update(extra)
    return Client(**kwargs)
