"""One typed Settings object for the whole application.

Every field is read from an environment variable `SOCIALPULSE_<FIELD>` (upper case); CLI flags override.
Nothing else in the code base reads `os.environ` for configuration. `docs/configuration.md` is generated from
the field docs here (`socialpulse config --markdown`) and a test keeps it in sync.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Optional

ENV_PREFIX = "SOCIALPULSE_"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The user of the embedded ClickHouse server; its `default` user is locked (docs/operations.md).
EMBEDDED_CLICKHOUSE_USER = "socialpulse"


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable and how to fix it."""


def _doc(text: str, *, secret: bool = False) -> dict[str, Any]:
    return {"doc": text, "secret": secret}


@dataclass(frozen=True)
class Settings:
    # --- where things live -------------------------------------------------------------------------------------
    data_dir: Path = field(default=Path(".socialpulse"), metadata=_doc(
        "Directory for embedded Kafka/ClickHouse data, pid files and logs."))
    log_level: str = field(default="info", metadata=_doc("Log level: debug, info, warn, error."))
    # --- Kafka -------------------------------------------------------------------------------------------------
    kafka_bootstrap: str = field(default="127.0.0.1:9092", metadata=_doc(
        "Kafka bootstrap servers (comma separated). A loopback address means the embedded broker."))
    kafka_embedded: Optional[bool] = field(default=None, metadata=_doc(
        "Start the embedded Kafka broker with `up`. Default: yes when kafka_bootstrap is a loopback address."))
    kafka_controller_port: int = field(default=9093, metadata=_doc("KRaft controller port of the embedded broker."))
    kafka_heap: str = field(default="512m", metadata=_doc("JVM heap (-Xmx) of the embedded broker."))
    kafka_security_protocol: str = field(default="PLAINTEXT", metadata=_doc(
        "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."))
    kafka_sasl_mechanism: str = field(default="PLAIN", metadata=_doc("PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."))
    kafka_sasl_username: str = field(default="", metadata=_doc("SASL user name."))
    kafka_sasl_password: str = field(default="", metadata=_doc("SASL password.", secret=True))
    kafka_ssl_cafile: str = field(default="", metadata=_doc("CA bundle (PEM) to verify the brokers."))
    kafka_ssl_certfile: str = field(default="", metadata=_doc("Client certificate (PEM) for mutual TLS."))
    kafka_ssl_keyfile: str = field(default="", metadata=_doc("Client key (PEM) for mutual TLS."))
    partitions: int = field(default=6, metadata=_doc(
        "Partitions of mentions.raw and the co-partitioned topics (set before the first `up`)."))
    replication_factor: int = field(default=1, metadata=_doc("Replication factor of the topics the project creates."))
    # --- ClickHouse --------------------------------------------------------------------------------------------
    clickhouse_host: str = field(default="127.0.0.1", metadata=_doc(
        "ClickHouse host. A loopback address means the embedded server."))
    clickhouse_embedded: Optional[bool] = field(default=None, metadata=_doc(
        "Start the embedded ClickHouse server with `up`. Default: yes when clickhouse_host is a loopback address."))
    clickhouse_port: int = field(default=9000, metadata=_doc("ClickHouse native TCP port."))
    clickhouse_http_port: int = field(default=8123, metadata=_doc("ClickHouse HTTP port (embedded server)."))
    clickhouse_user: str = field(default="default", metadata=_doc(
        "ClickHouse user. With the embedded server `default` means `socialpulse`, and an empty password the one "
        "generated into <data dir>/run/clickhouse.password."))
    clickhouse_password: str = field(default="", metadata=_doc("ClickHouse password.", secret=True))
    clickhouse_database: str = field(default="socialpulse", metadata=_doc("ClickHouse database."))
    clickhouse_secure: bool = field(default=False, metadata=_doc("Use TLS to ClickHouse."))
    clickhouse_verify: bool = field(default=True, metadata=_doc("Verify ClickHouse's TLS certificate."))
    clickhouse_ca_certs: str = field(default="", metadata=_doc("CA bundle (PEM) to verify ClickHouse."))
    embedded_tls_certfile: str = field(default="", metadata=_doc(
        "Certificate chain (PEM, server certificate first) that the embedded Kafka broker and ClickHouse server "
        "present when TLS is on (KAFKA_SECURITY_PROTOCOL SSL/SASL_SSL, CLICKHOUSE_SECURE); it must name "
        "127.0.0.1. Not used with external servers."))
    embedded_tls_keyfile: str = field(default="", metadata=_doc(
        "Private key of EMBEDDED_TLS_CERTFILE: unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`)."))
    retention_text_days: int = field(default=0, metadata=_doc(
        "Days the raw text and personal data of mentions and alerts are kept (text, author, names, e-mail, url); "
        "after that ClickHouse empties those columns (TTL) and the rows keep counting in every KPI. 0: forever. "
        "See docs/retention.md."))
    retention_rows_days: int = field(default=0, metadata=_doc(
        "Days mentions, alerts and their actions and verdicts are kept at all (ClickHouse TTL); the daily and "
        "hourly rollups keep the aggregates of the days removed. 0: forever."))
    retention_aggregate_days: int = field(default=0, metadata=_doc(
        "Days the rollups (hour x brand x channel, day x brand) are kept; 0 (forever) or at least "
        "RETENTION_ROWS_DAYS."))
    # --- worker ------------------------------------------------------------------------------------------------
    app_id: str = field(default="socialpulse", metadata=_doc(
        "Faust application id: consumer group and changelog topic prefix."))
    worker_host: str = field(default="127.0.0.1", metadata=_doc("Bind address of the worker's web/metrics server."))
    worker_port: int = field(default=6066, metadata=_doc("Worker web port (/metrics). Each worker on a host needs its own."))
    sink_batch_size: int = field(default=5000, metadata=_doc("Rows per ClickHouse insert (upper bound)."))
    sink_flush_interval: float = field(default=0.5, metadata=_doc("Seconds before a partial batch is inserted."))
    sink_retry_max_backoff: float = field(default=30.0, metadata=_doc(
        "Upper bound (s) of the backoff between insert retries while ClickHouse is unreachable."))
    score_text_cap: int = field(default=1000, metadata=_doc(
        "Characters of prepared text scored by VADER and the complaint model (full text is kept)."))
    process_batch_size: int = field(default=500, metadata=_doc(
        "Upper bound of a batch in the ingest and detect stages (a batch is what is queued when the stage is free)."))
    uvloop: bool = field(default=True, metadata=_doc(
        "Run the worker on uvloop (a faster asyncio event loop); false: the standard asyncio loop."))
    # --- complaints and alerts ---------------------------------------------------------------------------------
    complaint_threshold: Optional[float] = field(default=None, metadata=_doc(
        "Complaint score threshold in [0,1]. Default: the shipped model's calibrated threshold."))
    complaint_window_days: int = field(default=30, metadata=_doc(
        "Days of complaint history kept per customer (repeat / cross-channel rules)."))
    repeat_complaint_min: int = field(default=2, metadata=_doc(
        "Complaints in the window (including this one) that make a repeat_complaint."))
    alert_cooldown_minutes: int = field(default=60, metadata=_doc(
        "After an alert for a customer, further complaints of the same customer in this time raise no new alert "
        "unless the severity is higher."))
    vip_tiers: str = field(default="platinum,gold", metadata=_doc("Tiers whose complaints are vip_complaint."))
    vip_lifetime_value: float = field(default=10000.0, metadata=_doc(
        "Lifetime value at or above which a complaint is vip_complaint."))
    vip_influence: float = field(default=0.7, metadata=_doc("Influence at or above which a complaint is vip_complaint."))
    spike_baseline_hours: int = field(default=24, metadata=_doc("Hours of history for the spike baseline."))
    spike_sigma: float = field(default=3.0, metadata=_doc("Spike when negatives in the last hour > mean + k·σ."))
    spike_min_count: int = field(default=20, metadata=_doc("Minimum negatives in the last hour for a spike."))
    spike_allowed_lateness: float = field(default=300.0, metadata=_doc(
        "Seconds of event time a negative mention may arrive behind the spike stage's watermark and still be "
        "counted; an hour is evaluated against a baseline of hours already closed this way."))
    spike_idle_timeout: float = field(default=30.0, metadata=_doc(
        "Seconds (wall clock) after which an input partition that sent nothing stops holding the spike watermark "
        "back."))
    brands_file: str = field(default="", metadata=_doc(
        "YAML file of brands (name, handles per channel, keywords). Empty: the data dir's brands.yml if present. "
        "Read when the worker starts: restart the workers after a change."))
    complaint_priors: str = field(default="", metadata=_doc(
        "Expected complaint share of the stream, to recalibrate the complaint score (trained on care-account tweets): "
        "empty = none; 0.2 = every channel; twitter=0.15,email=0.4,*=0.2; `auto` = estimated per channel from the "
        "stream's scores (EM). See docs/complaints.md."))
    complaint_learn_handles: bool = field(default=True, metadata=_doc(
        "Learn the handles that many mentions of a brand address (besides brands.yml and handles resembling the "
        "mention's brand) and count them as addressed to the brand; see docs/brands.md."))
    # --- dashboard, webhooks -----------------------------------------------------------------------------------
    dashboard_host: str = field(default="127.0.0.1", metadata=_doc("Bind address of the dashboard."))
    dashboard_port: int = field(default=8080, metadata=_doc("Dashboard port."))
    dashboard_token: str = field(default="", metadata=_doc(
        "Token required by the dashboard. Empty: the one kept in <data dir>/run/dashboard.token (generated once, "
        "mode 0600), which the running dashboard re-reads when it changes (`socialpulse dashboard rotate-token`).",
        secret=True))
    dashboard_session_ttl: int = field(default=43200, metadata=_doc(
        "Seconds a dashboard session (the cookie set by /?token=) lasts; it is re-issued when a request comes after "
        "half of that, so a page in use stays signed in and an idle one is signed out after this time."))
    trusted_proxies: str = field(default="", metadata=_doc(
        "IP addresses or CIDR networks (comma separated) of the TLS reverse proxies in front of the dashboard: "
        "from these peers only, the first X-Forwarded-Proto and X-Forwarded-Host decide the cookie's Secure flag "
        "and the origin of the page, and X-Forwarded-For the client address (per-client limits). Empty: trust none "
        "(the headers are ignored)."))
    dashboard_header_timeout: float = field(default=10.0, metadata=_doc(
        "Seconds a client has to send a request's complete headers, from connecting or from the end of its previous "
        "response (also how long an idle keep-alive connection stays open); then the connection is closed."))
    dashboard_body_timeout: float = field(default=30.0, metadata=_doc(
        "Seconds a client has to send a request's body once its headers arrived; then 408 and the connection is "
        "closed."))
    dashboard_max_streams: int = field(default=200, metadata=_doc(
        "Most live streams (/api/stream, one per open page) the dashboard serves at once; more are refused with 503."))
    dashboard_max_streams_per_client: int = field(default=10, metadata=_doc(
        "Most live streams from one client address (see trusted_proxies behind a proxy); more are refused with 503."))
    ingest_token: str = field(default="", metadata=_doc(
        "Bearer token(s) of POST /api/mentions (mentions over HTTP), comma separated: one per integrating service, "
        "each with its own rate limit. Not the dashboard token. Empty: `up` generates one into "
        "<data dir>/run/ingest.token; a `socialpulse dashboard` started by hand answers 503 (HTTP ingest off).",
        secret=True))
    ingest_max_bytes: int = field(default=1_048_576, metadata=_doc(
        "Largest body of POST /api/mentions in bytes (after decompression); a larger one is refused with 413."))
    ingest_max_items: int = field(default=5000, metadata=_doc(
        "Most mentions in one POST /api/mentions; more are refused with 413 (split the body)."))
    ingest_rate: float = field(default=2000.0, metadata=_doc(
        "Mentions per second each ingest token may post, on average (a token bucket); past it: 429 with "
        "Retry-After."))
    ingest_burst: int = field(default=10000, metadata=_doc(
        "Mentions each ingest token may post at once (the bucket's size); a body with more is refused with 413."))
    webhook_urls: str = field(default="", metadata=_doc("Comma-separated URLs that receive matching alerts as JSON POSTs."))
    webhook_min_severity: str = field(default="high", metadata=_doc("Lowest severity sent to webhooks."))
    webhook_brands: str = field(default="", metadata=_doc("Comma-separated brands sent to webhooks (empty: all)."))
    webhook_max_retries: int = field(default=5, metadata=_doc("Delivery attempts per alert and URL."))

    # --- derived -----------------------------------------------------------------------------------------------
    @property
    def kafka_is_embedded(self) -> bool:
        if self.kafka_embedded is not None:
            return self.kafka_embedded
        hosts = [_host_of(s) for s in self.kafka_bootstrap.split(",") if s.strip()]
        return bool(hosts) and all(h in LOOPBACK_HOSTS for h in hosts)

    @property
    def clickhouse_is_embedded(self) -> bool:
        if self.clickhouse_embedded is not None:
            return self.clickhouse_embedded
        return self.clickhouse_host in LOOPBACK_HOSTS

    @property
    def kafka_port(self) -> int:
        return _port_of(self.kafka_bootstrap.split(",")[0], 9092)

    @property
    def trusted_proxy_networks(self) -> tuple[Any, ...]:
        """`trusted_proxies` as ip_network objects (an address is a /32 or /128); raises ValueError."""
        import ipaddress

        return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",")
                     if p.strip())

    @property
    def vip_tier_set(self) -> frozenset[str]:
        return frozenset(t.strip().lower() for t in self.vip_tiers.split(",") if t.strip())

    def with_overrides(self, **overrides: Any) -> "Settings":
        """A copy with the given fields replaced (None values are ignored: flags not given on the CLI)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **{k: _coerce(_field(k), v) for k, v in given.items()})

    def redacted(self) -> dict[str, Any]:
        """All fields as plain values with secrets replaced by '***' (for logs and `config`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if f.metadata.get("secret") and value else (str(value) if isinstance(value, Path) else value)
        return out


def _host_of(server: str) -> str:
    server = server.strip()
    if server.startswith("["):
        return server[1:server.index("]")]
    return server.rsplit(":", 1)[0] if ":" in server else server


def _port_of(server: str, default: int) -> int:
    server = server.strip()
    tail = server.rsplit("]", 1)[-1]
    if ":" in tail:
        return int(tail.rsplit(":", 1)[1])
    return default


def _field(name: str) -> dataclasses.Field:
    for f in fields(Settings):
        if f.name == name:
            return f
    raise SettingsError(f"unknown setting {name!r}")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(f: dataclasses.Field, raw: Any) -> Any:
    """Convert a raw (string) value to the field's type, with an error that says what is expected."""
    if not isinstance(raw, str):
        return raw
    env = ENV_PREFIX + f.name.upper()
    kind = str(f.type)
    value = raw.strip()
    try:
        if "bool" in kind:
            if "Optional" in kind and value.lower() in {"", "auto"}:
                return None
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            raise ValueError
        if "Optional[float]" in kind:
            return None if value == "" else float(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "Path":
            return Path(value).expanduser()
    except ValueError:
        expected = {"int": "an integer", "float": "a number", "Optional[float]": "a number (or empty for the default)",
                    "Optional[bool]": "true/false or auto"}.get(kind, "true/false" if "bool" in kind else kind)
        raise SettingsError(f"{env}={raw!r} is not valid: expected {expected}") from None
    return raw


def load_settings(environ: Optional[Mapping[str, str]] = None, **overrides: Any) -> Settings:
    """Settings from `environ` (default: the process environment) plus explicit overrides (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = ENV_PREFIX + f.name.upper()
        if key in env:
            values[f.name] = _coerce(f, env[key])
    settings = Settings(**values).with_overrides(**overrides)
    validate(settings)
    if environ is None:  # the process's own configuration: the password `up` generated for the embedded ClickHouse
        path = clickhouse_password_path(settings.data_dir)
        settings = with_embedded_clickhouse_password(settings, path.read_text().strip() if path.is_file() else "")
    return settings


def clickhouse_password_path(data_dir: Path) -> Path:
    """Where the password generated for the embedded ClickHouse server is kept (mode 0600; `pipeline.ops.credentials`
    creates it)."""
    return Path(data_dir) / "run" / "clickhouse.password"


def with_embedded_clickhouse_password(s: Settings, password: str) -> Settings:
    """The credentials for an embedded ClickHouse server: user `default` (locked there) becomes `socialpulse`, an empty
    password becomes `password`. A configured password or other user always wins; an external server: unchanged."""
    if not s.clickhouse_is_embedded:
        return s
    user = EMBEDDED_CLICKHOUSE_USER if s.clickhouse_user == "default" else s.clickhouse_user
    return dataclasses.replace(s, clickhouse_user=user, clickhouse_password=s.clickhouse_password or password)


_LEVELS = {"debug", "info", "warn", "error", "crit"}


def validate(s: Settings) -> None:
    """Raise SettingsError naming the first invalid value."""
    def bad(name: str, why: str) -> SettingsError:
        return SettingsError(f"{ENV_PREFIX}{name.upper()}={getattr(s, name)!r} is not valid: {why}")

    for name in ("kafka_controller_port", "clickhouse_port", "clickhouse_http_port", "worker_port", "dashboard_port"):
        if not 0 < getattr(s, name) < 65536:
            raise bad(name, "expected a TCP port 1-65535")
    if s.log_level.lower() not in _LEVELS:
        raise bad("log_level", "expected one of " + ", ".join(sorted(_LEVELS)))
    if s.partitions < 1:
        raise bad("partitions", "expected at least 1")
    if s.replication_factor < 1:
        raise bad("replication_factor", "expected at least 1")
    if s.sink_batch_size < 1 or s.process_batch_size < 1:
        raise bad("sink_batch_size" if s.sink_batch_size < 1 else "process_batch_size", "expected at least 1")
    for name in ("ingest_max_bytes", "ingest_max_items", "ingest_burst"):
        if getattr(s, name) < 1:
            raise bad(name, "expected at least 1")
    for name in ("dashboard_max_streams", "dashboard_max_streams_per_client"):
        if getattr(s, name) < 1:
            raise bad(name, "expected at least 1")
    if s.dashboard_session_ttl < 60:
        raise bad("dashboard_session_ttl", "expected at least 60 seconds")
    for name in ("dashboard_header_timeout", "dashboard_body_timeout"):
        if not getattr(s, name) > 0:
            raise bad(name, "expected a positive number of seconds")
    try:
        s.trusted_proxy_networks
    except ValueError as exc:
        raise bad("trusted_proxies", f"{exc}; expected IP addresses or networks like 10.0.0.0/8, comma separated") \
            from None
    if not s.ingest_rate > 0:
        raise bad("ingest_rate", "expected a positive number of mentions per second")
    if s.sink_flush_interval <= 0:
        raise bad("sink_flush_interval", "expected a positive number of seconds")
    try:
        s.complaint_priors.strip().lower() == "auto" or parse_priors(s.complaint_priors)
    except ValueError as exc:
        raise bad("complaint_priors", str(exc)) from None
    for name in ("retention_text_days", "retention_rows_days", "retention_aggregate_days"):
        if getattr(s, name) < 0:
            raise bad(name, "expected a number of days, 0 for forever")
    if s.retention_rows_days and s.retention_text_days > s.retention_rows_days:
        raise bad("retention_text_days", "text is kept no longer than its rows: at most RETENTION_ROWS_DAYS")
    if s.retention_aggregate_days and not 0 < s.retention_rows_days <= s.retention_aggregate_days:
        raise bad("retention_aggregate_days", "the aggregates outlive the rows: 0 (forever) or at least "
                  "RETENTION_ROWS_DAYS (itself not 0)")
    if s.complaint_threshold is not None and not 0.0 <= s.complaint_threshold <= 1.0:
        raise bad("complaint_threshold", "expected a number between 0 and 1")
    if s.spike_allowed_lateness < 0 or s.spike_idle_timeout <= 0:
        raise bad("spike_allowed_lateness" if s.spike_allowed_lateness < 0 else "spike_idle_timeout",
                  "expected a non-negative number of seconds" if s.spike_allowed_lateness < 0
                  else "expected a positive number of seconds")
    from pipeline.contract.severity import SEVERITIES

    if s.webhook_min_severity not in SEVERITIES:
        raise bad("webhook_min_severity", "expected one of " + ", ".join(SEVERITIES))
    if s.kafka_security_protocol not in {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}:
        raise bad("kafka_security_protocol", "expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    try:
        for server in s.kafka_bootstrap.split(","):
            _port_of(server, 9092)
    except ValueError:
        raise bad("kafka_bootstrap", "expected host:port[,host:port…]") from None


ANY_CHANNEL = "*"  # the key of `parse_priors` for every channel not listed


def parse_priors(text: str) -> dict[str, float]:
    """The `complaint_priors` setting → channel → expected complaint share: "" (none), "0.2" (every channel) or
    "twitter=0.15,email=0.4,*=0.2" (`*`: the channels not listed). Raises ValueError saying how to write it."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        channel, sep, value = part.rpartition("=")
        channel = channel.strip().lower() if sep else ANY_CHANNEL
        try:
            out[channel] = prior = float(value)
        except ValueError:
            raise ValueError(f"complaint prior {part!r}: {value.strip()!r} is not a number; write e.g. "
                             "twitter=0.15,email=0.4 or one number for every channel") from None
        if not 0.0 < prior < 1.0 or not channel:
            raise ValueError(f"complaint prior {part!r}: write channel=share, a share in (0, 1), e.g. twitter=0.15")
    return out
