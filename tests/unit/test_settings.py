"""pipeline/settings.py: env parsing, CLI overrides, validation, derived properties, redaction, the reference doc."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from pipeline.contract.settings_doc import settings_reference_markdown
from pipeline.settings import Settings, SettingsError, load_settings, validate

ROOT = Path(__file__).resolve().parents[2]


def env(**values: str) -> dict[str, str]:
    return {f"SOCIALPULSE_{k.upper()}": v for k, v in values.items()}


# --- parsing each type ----------------------------------------------------------------------------------------

def test_defaults_without_environment():
    s = load_settings({})
    assert s == Settings()
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.clickhouse_port == 9000
    assert s.clickhouse_http_port == 8123
    assert s.dashboard_port == 8080
    assert s.kafka_embedded is None
    assert s.complaint_threshold is None


def test_env_int_and_float_and_str():
    s = load_settings(env(clickhouse_port=" 9440 ", spike_sigma="2.5", sink_flush_interval="0.25",
                          clickhouse_user="reader", kafka_heap="1g"))
    assert s.clickhouse_port == 9440 and isinstance(s.clickhouse_port, int)
    assert s.spike_sigma == 2.5 and isinstance(s.spike_sigma, float)
    assert s.sink_flush_interval == 0.25
    assert s.clickhouse_user == "reader"
    assert s.kafka_heap == "1g"


def test_env_float_accepts_integer_text():
    s = load_settings(env(vip_lifetime_value="5000"))
    assert s.vip_lifetime_value == 5000.0 and isinstance(s.vip_lifetime_value, float)


@pytest.mark.parametrize("raw,expected", [
    ("true", True), ("TRUE", True), ("yes", True), ("Yes", True), ("1", True), ("on", True),
    ("false", False), ("no", False), ("NO", False), ("0", False), ("off", False), (" yes ", True),
])
def test_env_bool(raw, expected):
    s = load_settings(env(clickhouse_secure=raw, clickhouse_verify=raw))
    assert s.clickhouse_secure is expected
    assert s.clickhouse_verify is expected


@pytest.mark.parametrize("raw,expected", [
    ("auto", None), ("AUTO", None), ("", None), ("yes", True), ("1", True), ("no", False), ("0", False),
])
def test_env_optional_bool_auto(raw, expected):
    s = load_settings(env(kafka_embedded=raw, clickhouse_embedded=raw))
    assert s.kafka_embedded is expected
    assert s.clickhouse_embedded is expected


def test_env_optional_float():
    assert load_settings(env(complaint_threshold="0.42")).complaint_threshold == 0.42
    assert load_settings(env(complaint_threshold="")).complaint_threshold is None


def test_env_path(tmp_path):
    s = load_settings(env(data_dir=str(tmp_path / "data")))
    assert s.data_dir == tmp_path / "data"
    assert isinstance(s.data_dir, Path)
    home = load_settings(env(data_dir="~/sp-data")).data_dir
    assert home == Path.home() / "sp-data"


def test_unrelated_environment_variables_are_ignored():
    s = load_settings({"CLICKHOUSE_PORT": "1", "SOCIALPULSE": "x", "socialpulse_clickhouse_port": "2"})
    assert s.clickhouse_port == 9000


# --- overrides ---------------------------------------------------------------------------------------------------

def test_cli_overrides_beat_env(tmp_path):
    s = load_settings(env(clickhouse_port="9001", kafka_bootstrap="kafka:9092", data_dir="/env/dir"),
                      clickhouse_port=9002, kafka_bootstrap="broker:19092", data_dir=str(tmp_path))
    assert s.clickhouse_port == 9002
    assert s.kafka_bootstrap == "broker:19092"
    assert s.data_dir == tmp_path


def test_cli_override_strings_are_coerced():
    s = load_settings({}, clickhouse_port="9100", clickhouse_secure="yes", spike_sigma="4")
    assert s.clickhouse_port == 9100
    assert s.clickhouse_secure is True
    assert s.spike_sigma == 4.0


def test_none_overrides_are_ignored():
    s = load_settings(env(clickhouse_port="9001", clickhouse_host="db.internal"), clickhouse_port=None,
                      clickhouse_host=None, data_dir=None)
    assert s.clickhouse_port == 9001
    assert s.clickhouse_host == "db.internal"
    assert s.data_dir == Path(".socialpulse")


def test_with_overrides_returns_a_copy():
    base = Settings()
    changed = base.with_overrides(worker_port=7000, log_level=None)
    assert changed.worker_port == 7000
    assert changed.log_level == "info"
    assert base.worker_port == 6066


def test_unknown_override_is_an_error():
    with pytest.raises(SettingsError, match="unknown setting 'no_such_thing'"):
        load_settings({}, no_such_thing=1)


# --- errors name the variable -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,raw,expected", [
    ("clickhouse_port", "abc", "an integer"),
    ("partitions", "1.5", "an integer"),
    ("spike_sigma", "lots", "a number"),
    ("clickhouse_secure", "maybe", "true/false"),
    ("kafka_embedded", "perhaps", "true/false or auto"),
    ("complaint_threshold", "high", "a number"),
])
def test_parse_error_names_variable_and_type(name, raw, expected):
    var = "SOCIALPULSE_" + name.upper()
    with pytest.raises(SettingsError) as info:
        load_settings({var: raw})
    message = str(info.value)
    assert var in message
    assert repr(raw) in message
    assert expected in message


def test_clickhouse_port_abc_message():
    with pytest.raises(SettingsError) as info:
        load_settings({"SOCIALPULSE_CLICKHOUSE_PORT": "abc"})
    assert str(info.value) == "SOCIALPULSE_CLICKHOUSE_PORT='abc' is not valid: expected an integer"


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


# --- validate() --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["kafka_controller_port", "clickhouse_port", "clickhouse_http_port", "worker_port",
                                  "dashboard_port"])
@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_validate_port_range(name, port):
    with pytest.raises(SettingsError) as info:
        load_settings({"SOCIALPULSE_" + name.upper(): port})
    assert "SOCIALPULSE_" + name.upper() in str(info.value)
    assert "TCP port 1-65535" in str(info.value)


@pytest.mark.parametrize("port", ["1", "65535"])
def test_validate_port_bounds_accepted(port):
    assert load_settings(env(clickhouse_port=port)).clickhouse_port == int(port)


def test_validate_log_level():
    with pytest.raises(SettingsError) as info:
        load_settings(env(log_level="loud"))
    assert "SOCIALPULSE_LOG_LEVEL='loud'" in str(info.value)
    assert "debug" in str(info.value)
    for level in ("debug", "info", "warn", "error", "DEBUG"):
        assert load_settings(env(log_level=level)).log_level == level


@pytest.mark.parametrize("value", ["-0.01", "1.01", "2"])
def test_validate_threshold_out_of_range(value):
    with pytest.raises(SettingsError) as info:
        load_settings(env(complaint_threshold=value))
    assert "SOCIALPULSE_COMPLAINT_THRESHOLD" in str(info.value)
    assert "between 0 and 1" in str(info.value)


@pytest.mark.parametrize("value", ["0", "1", "0.5"])
def test_validate_threshold_in_range(value):
    assert load_settings(env(complaint_threshold=value)).complaint_threshold == float(value)


def test_validate_security_protocol():
    with pytest.raises(SettingsError) as info:
        load_settings(env(kafka_security_protocol="TLS"))
    assert "SOCIALPULSE_KAFKA_SECURITY_PROTOCOL='TLS'" in str(info.value)
    for proto in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        assert load_settings(env(kafka_security_protocol=proto)).kafka_security_protocol == proto


def test_validate_other_rules():
    cases = {
        "partitions": "0",
        "replication_factor": "0",
        "sink_batch_size": "0",
        "process_batch_size": "0",
        "sink_flush_interval": "0",
        "webhook_min_severity": "urgent",
        "kafka_bootstrap": "broker:abc",
    }
    for name, raw in cases.items():
        with pytest.raises(SettingsError) as info:
            load_settings({"SOCIALPULSE_" + name.upper(): raw})
        assert "SOCIALPULSE_" + name.upper() in str(info.value), name


def test_validate_accepts_defaults_directly():
    validate(Settings())  # no exception


# --- derived properties ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bootstrap,embedded", [
    ("127.0.0.1:9092", True),
    ("localhost:9092", True),
    ("[::1]:9092", True),
    ("127.0.0.1:9092,localhost:9093", True),
    ("kafka:9092", False),
    ("127.0.0.1:9092,kafka:9092", False),
    ("10.0.0.5:9092", False),
])
def test_kafka_is_embedded_auto(bootstrap, embedded):
    assert Settings(kafka_bootstrap=bootstrap).kafka_is_embedded is embedded


def test_kafka_is_embedded_explicit_override():
    assert Settings(kafka_bootstrap="kafka:9092", kafka_embedded=True).kafka_is_embedded is True
    assert Settings(kafka_bootstrap="127.0.0.1:9092", kafka_embedded=False).kafka_is_embedded is False
    assert load_settings(env(kafka_bootstrap="kafka:9092", kafka_embedded="yes")).kafka_is_embedded is True
    assert load_settings(env(kafka_bootstrap="kafka:9092", kafka_embedded="auto")).kafka_is_embedded is False


@pytest.mark.parametrize("host,embedded", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("clickhouse", False), ("db.example.com", False),
])
def test_clickhouse_is_embedded_auto(host, embedded):
    assert Settings(clickhouse_host=host).clickhouse_is_embedded is embedded


def test_clickhouse_is_embedded_explicit_override():
    assert Settings(clickhouse_host="clickhouse", clickhouse_embedded=True).clickhouse_is_embedded is True
    assert Settings(clickhouse_host="127.0.0.1", clickhouse_embedded=False).clickhouse_is_embedded is False


def test_kafka_port():
    assert Settings().kafka_port == 9092
    assert Settings(kafka_bootstrap="127.0.0.1:19092,127.0.0.1:19093").kafka_port == 19092
    assert Settings(kafka_bootstrap="[::1]:29092").kafka_port == 29092
    assert Settings(kafka_bootstrap="localhost").kafka_port == 9092


def test_vip_tier_set():
    assert Settings(vip_tiers=" Platinum, gold ,,").vip_tier_set == frozenset({"platinum", "gold"})
    assert Settings(vip_tiers="").vip_tier_set == frozenset()


# --- redaction ----------------------------------------------------------------------------------------------------

def test_redacted_hides_secrets():
    s = Settings(clickhouse_password="hunter2", kafka_sasl_password="s3cret", dashboard_token="tok",
                 kafka_sasl_username="svc", data_dir=Path("/var/sp"))
    r = s.redacted()
    assert r["clickhouse_password"] == "***"
    assert r["kafka_sasl_password"] == "***"
    assert r["dashboard_token"] == "***"
    assert r["kafka_sasl_username"] == "svc"
    assert r["data_dir"] == "/var/sp"
    assert r["clickhouse_port"] == 9000
    assert "hunter2" not in repr(r) and "s3cret" not in repr(r) and "tok'" not in repr(r)
    assert set(r) == {f.name for f in fields(Settings)}


def test_redacted_shows_empty_secrets_as_empty():
    r = Settings().redacted()
    assert r["clickhouse_password"] == ""
    assert r["kafka_sasl_password"] == ""
    assert r["dashboard_token"] == ""


def test_secret_fields_are_exactly_the_credentials():
    secret = {f.name for f in fields(Settings) if f.metadata.get("secret")}
    assert secret == {"clickhouse_password", "kafka_sasl_password", "dashboard_token", "ingest_token"}


# --- reference documentation --------------------------------------------------------------------------------------

def test_reference_lists_every_variable():
    md = settings_reference_markdown()
    for f in fields(Settings):
        assert f"`SOCIALPULSE_{f.name.upper()}`" in md, f.name
        assert f.metadata.get("doc"), f"{f.name} has no doc"
    assert "| `SOCIALPULSE_CLICKHOUSE_PORT` | `9000` | ClickHouse native TCP port. |" in md
    assert "| `SOCIALPULSE_KAFKA_EMBEDDED` | `auto` |" in md
    assert "| `SOCIALPULSE_CLICKHOUSE_PASSWORD` | `(empty)` | ClickHouse password. Secret: never logged. |" in md
    rows = [line for line in md.splitlines() if line.startswith("| `SOCIALPULSE_")]
    assert len(rows) == len(fields(Settings))


def test_docs_configuration_md_is_in_sync():
    doc = ROOT / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == settings_reference_markdown(), (
        "docs/configuration.md is stale: run `socialpulse config --markdown > docs/configuration.md`")
