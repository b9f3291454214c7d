"""Credentials generated once and kept in the data dir: the embedded ClickHouse server's password (I/O).

The rule of which user/password a client uses is `pipeline.settings.with_embedded_clickhouse_password` (pure);
`load_settings()` reads the kept password, this module creates it (`Stack`, `EmbeddedClickHouse`, the tests)."""
from __future__ import annotations

from pipeline.adapters.secretfile import kept_secret
from pipeline.settings import Settings, clickhouse_password_path, with_embedded_clickhouse_password

__all__ = ["embedded_clickhouse_settings", "kept_secret"]


def embedded_clickhouse_settings(s: Settings) -> Settings:
    """`s` with the credentials of its embedded ClickHouse server: user `socialpulse` (for `default`) and, unless a
    password is configured, the one generated once into `<data dir>/run/clickhouse.password`. Idempotent; an
    external ClickHouse: `s` unchanged."""
    if not s.clickhouse_is_embedded:
        return s
    return with_embedded_clickhouse_password(
        s, s.clickhouse_password or kept_secret(clickhouse_password_path(s.data_dir)))
