"""The container deployment: docker-compose.yml, .env.example, deploy/, Dockerfile, .dockerignore.

No container is started here. `docker compose config -q` validates the compose file when a Compose v2 client is
installed (the `docker compose` plugin, or a standalone `docker-compose` v2 on PATH); the structural checks below
need only PyYAML and always run. Every SOCIALPULSE_* name must be a Settings field and every `socialpulse` command
the deployment runs must exist in the CLI, so a renamed setting or command cannot silently break the stack.
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping, Optional

import pytest

from pipeline.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
FULL_ENV = ROOT / "deploy" / "full.env"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
OPERATIONS = ROOT / "docs" / "operations.md"
GRAFANA = ROOT / "deploy" / "grafana"

SOCIALPULSE_SERVICES = ("init", "worker", "dashboard")
LONG_RUNNING = ("kafka", "kafka-2", "kafka-3", "clickhouse", "worker", "dashboard", "grafana")
BROKERS = ("kafka", "kafka-2", "kafka-3")
# A whole name (not a prefix such as SOCIALPULSE_KAFKA_SASL_* in prose).
SETTING_NAME = re.compile(r"\bSOCIALPULSE_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])")


# --- helpers ----------------------------------------------------------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose env file (comments and blank lines skipped, no quoting used in ours)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose-style interpolation of strings in a loaded document: $$, ${V}, ${V:-default}, ${V-default}, $V."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, default = m.group(2), m.group(3) or ""
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env.get(name, default)
        if op in (":?", "?"):
            if not env.get(name):
                raise AssertionError(f"{name} is required by the compose file")
            return env[name]
        return env.get(name, "")

    return _VAR.sub(sub, value)


def variables(text: str) -> set[str]:
    """Names interpolated in a compose file (${NAME...} and $NAME, not $$)."""
    return {m.group(1) or m.group(4) for m in _VAR.finditer(text) if m.group(0) != "$$"}


def compose_client() -> Optional[list[str]]:
    """argv prefix of a Compose v2 client, or None when this machine has none."""
    candidates = []
    built = ROOT / ".tools" / "docker-compose"  # `make compose` builds it where the machine has none
    if built.is_file():
        candidates.append([str(built)])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for argv in candidates:
        try:
            out = subprocess.run(argv + ["version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and re.search(r"version v?2\.", out.stdout):
            return argv
    return None


def socialpulse_commands(service: dict) -> list[list[str]]:
    """`socialpulse` invocations of a service of the socialpulse image, as [command, subcommand...] lists."""
    entrypoint = service.get("entrypoint")
    command = service.get("command") or ["worker"]
    if entrypoint is None:  # the image's ENTRYPOINT ["socialpulse"]
        return [command if isinstance(command, list) else command.split()]
    script = command if isinstance(command, str) else "\n".join(command)
    return [m.split() for m in re.findall(r"\bsocialpulse\s+([a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)", script)]


def assert_cli_command(words: list[str], where: str) -> None:
    import click

    from pipeline.cli import main

    group: click.Group = main
    name = words[0]
    assert name in group.commands, f"{where}: `socialpulse {name}` is not a command of pipeline.cli.main"
    cmd = group.commands[name]
    if isinstance(cmd, click.Group) and len(words) > 1:
        assert words[1] in cmd.commands, f"{where}: `socialpulse {name} {words[1]}` is not a command"


# --- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def yaml():
    return pytest.importorskip("yaml", reason="PyYAML (dev extra) is needed to read docker-compose.yml")


@pytest.fixture(scope="module")
def raw(yaml) -> dict:
    """docker-compose.yml as written (anchors and merge keys resolved, variables not interpolated)."""
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def default_env() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def full_env(default_env) -> dict[str, str]:
    return {**default_env, **read_env_file(FULL_ENV)}


@pytest.fixture(scope="module")
def compose(raw) -> dict:
    """The compose file interpolated with no environment at all: the built-in defaults."""
    return interpolate(raw, {})


# --- `docker compose config` ------------------------------------------------------------------------------------

VARIANTS = {
    "defaults": ["--env-file", "/dev/null"],
    "env-example+grafana": ["--env-file", ".env.example", "--profile", "grafana"],
    "full": ["--env-file", ".env.example", "--env-file", "deploy/full.env"],
    "full+grafana": ["--env-file", ".env.example", "--env-file", "deploy/full.env", "--profile", "full",
                     "--profile", "grafana"],
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_compose_config_is_valid(variant, tmp_path):
    argv = compose_client()
    if argv is None:
        pytest.skip("no Docker Compose v2 client here (`docker compose version` failed, no docker-compose v2)")
    env = {"PATH": str(Path(shutil.which(argv[0])).parent) + ":/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run(argv + ["-f", str(COMPOSE), *VARIANTS[variant], "config", "-q"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    services = subprocess.run(argv + ["-f", str(COMPOSE), *VARIANTS[variant], "config", "--services"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120).stdout.split()
    assert ("kafka-3" in services) == variant.startswith("full")
    assert ("grafana" in services) == variant.endswith("grafana")


# --- names: settings and commands (no YAML needed) -------------------------------------------------------------

@pytest.mark.parametrize("path", [COMPOSE, ENV_EXAMPLE, FULL_ENV, DOCKERFILE, OPERATIONS], ids=lambda p: p.name)
def test_every_socialpulse_variable_is_a_setting(path):
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)}
    used = set(SETTING_NAME.findall(path.read_text()))
    assert used, f"{path.name} names no SOCIALPULSE_* variable"
    assert not used - known, f"{path.name}: not Settings fields: {sorted(used - known)}"


def test_dockerfile_runs_the_worker_command():
    text = DOCKERFILE.read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", text, re.M).group(1))
    cmd = json.loads(re.search(r"^CMD\s+(\[.*\])\s*$", text, re.M).group(1))
    assert entrypoint == ["socialpulse"]
    assert cmd == ["worker"]
    assert_cli_command(cmd, "Dockerfile CMD")


def test_commands_in_operations_doc_exist():
    text = OPERATIONS.read_text()
    code = "\n".join(re.findall(r"```.*?```", text, re.S) + re.findall(r"`[^`\n]+`", text))
    invocations = re.findall(r"\bsocialpulse\s+([a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)", code)
    invocations += re.findall(r"\brun --rm (?:-v \S+ )?worker\s+([a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)", code)
    assert len(invocations) > 10
    for words in invocations:
        assert_cli_command(words.split(), "docs/operations.md")


def test_env_example_values_equal_the_compose_defaults(raw, default_env):
    """`.env.example` documents the defaults: copying it to `.env` unchanged must change nothing."""
    assert interpolate(raw, default_env) == interpolate(raw, {})


def test_every_compose_variable_is_documented_in_env_example(default_env):
    used = variables(COMPOSE.read_text())
    assert not used - set(default_env), f"add to .env.example: {sorted(used - set(default_env))}"
    consumed = used | {"COMPOSE_PROFILES"}
    assert not set(default_env) - consumed, f"unused in docker-compose.yml: {sorted(set(default_env) - consumed)}"
    assert not set(read_env_file(FULL_ENV)) - consumed


# --- compose structure ------------------------------------------------------------------------------------------

def test_services_and_profiles(compose):
    services = compose["services"]
    assert set(services) == {"kafka", "kafka-2", "kafka-3", "clickhouse", "init", "worker", "dashboard", "grafana"}
    for name in ("kafka", "clickhouse", "init", "worker", "dashboard"):
        assert "profiles" not in services[name], f"{name} must start by default"
    assert services["kafka-2"]["profiles"] == ["full"]
    assert services["kafka-3"]["profiles"] == ["full"]
    assert services["grafana"]["profiles"] == ["grafana"]


def test_images_are_pinned(compose):
    s = compose["services"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", s["kafka"]["image"])
    assert {s[b]["image"] for b in BROKERS} == {s["kafka"]["image"]}
    assert re.fullmatch(r"clickhouse/clickhouse-server:\d+\.\d+(\.\d+)*", s["clickhouse"]["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", s["grafana"]["image"])
    images = {s[n]["image"] for n in SOCIALPULSE_SERVICES}
    assert len(images) == 1, "init, worker and dashboard run the same image"
    for n in SOCIALPULSE_SERVICES:
        assert s[n]["build"]["context"] == "." and s[n]["build"]["dockerfile"] == "Dockerfile"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_healthcheck_and_restart(compose, name):
    service = compose["services"][name]
    assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name
    check = service.get("healthcheck") or {}
    assert not check.get("disable") and check.get("test"), f"{name} has no healthcheck"
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    for key in ("interval", "timeout", "retries"):
        assert key in check, f"{name}.healthcheck.{key}"


def test_init_is_one_shot_topics_then_migrate(compose):
    init = compose["services"]["init"]
    assert init["restart"] == "no"
    assert init["healthcheck"] == {"disable": True}  # the image's HEALTHCHECK probes the worker port
    assert [w[0] for w in socialpulse_commands(init)] == ["topics", "migrate"]
    deps = init["depends_on"]
    assert deps["kafka"]["condition"] == deps["clickhouse"]["condition"] == "service_healthy"
    for broker in ("kafka-2", "kafka-3"):  # in the `full` profile only: optional, else `up` rejects the project
        assert deps[broker] == {"condition": "service_healthy", "required": False}


@pytest.mark.parametrize("name", ["worker", "dashboard"])
def test_worker_and_dashboard_start_after_init(compose, name):
    deps = compose["services"][name]["depends_on"]
    assert deps["init"]["condition"] == "service_completed_successfully"
    assert deps["kafka"]["condition"] == "service_healthy"
    assert deps["clickhouse"]["condition"] == "service_healthy"


def test_every_dependency_is_waited_for_and_defined(compose):
    services = compose["services"]
    for name, service in services.items():
        deps = service.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: use the long depends_on form with a condition"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec["condition"] in {"service_healthy", "service_completed_successfully"}
            if set(services[dep].get("profiles", [])) - set(service.get("profiles", [])):
                assert spec.get("required") is False, f"{name} → {dep}: a profiled service must be optional"


@pytest.mark.parametrize("name", SOCIALPULSE_SERVICES)
def test_commands_of_the_socialpulse_image_exist(compose, name):
    invocations = socialpulse_commands(compose["services"][name])
    assert invocations
    for words in invocations:
        assert_cli_command(words, f"docker-compose.yml service {name}")


def test_worker_scales(compose):
    worker = compose["services"]["worker"]
    assert worker["command"] == ["worker"]
    assert "container_name" not in worker and "hostname" not in worker, "names collide with --scale"
    assert "ports" not in worker, "a published port collides between replicas"
    assert [str(p) for p in worker["expose"]] == ["6066"]
    env = worker["environment"]
    assert env["SOCIALPULSE_WORKER_HOST"] == "0.0.0.0" and str(env["SOCIALPULSE_WORKER_PORT"]) == "6066"
    assert "127.0.0.1:6066/health" in " ".join(worker["healthcheck"]["test"])
    assert int(worker["deploy"]["replicas"]) >= 1


def test_dashboard_port_and_token(raw, compose):
    dash = compose["services"]["dashboard"]
    assert dash["command"] == ["dashboard"]
    assert any(str(p).endswith(":8080") for p in dash["ports"])
    env = dash["environment"]
    assert env["SOCIALPULSE_DASHBOARD_HOST"] == "0.0.0.0" and str(env["SOCIALPULSE_DASHBOARD_PORT"]) == "8080"
    assert raw["services"]["dashboard"]["environment"]["SOCIALPULSE_DASHBOARD_TOKEN"].startswith(
        "${SOCIALPULSE_DASHBOARD_TOKEN")
    assert "127.0.0.1:8080/health" in " ".join(dash["healthcheck"]["test"])


def test_no_hard_coded_secrets(raw):
    """Passwords and tokens come from the environment; a built-in default must say it is for development."""
    for name, service in raw["services"].items():
        env = service.get("environment") or {}
        for key, value in env.items():
            if re.search(r"PASSWORD|TOKEN|SECRET", key):
                m = re.fullmatch(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}", str(value))
                assert m, f"{name}.{key} must be ${{VARIABLE}} or ${{VARIABLE:-dev default}}"
                assert not m.group(2) or "dev" in m.group(2), f"{name}.{key}: default {m.group(2)!r}"


def test_kafka_kraft_configuration(compose, full_env, raw):
    services = compose["services"]
    node_ids = set()
    for broker in BROKERS:
        env = services[broker]["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        listeners = env["KAFKA_LISTENERS"].split(",")
        assert "PLAINTEXT://:9092" in listeners and any(lst.startswith("CONTROLLER://") for lst in listeners)
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{broker}:9092"
        assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
        assert "CONTROLLER:PLAINTEXT" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
        assert any(v.endswith(":/var/lib/kafka/data") for v in services[broker]["volumes"])
        node_ids.add(env["KAFKA_NODE_ID"])
        cluster_id = env["CLUSTER_ID"]
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16, "CLUSTER_ID: 16 bytes, base64url"
    assert len(node_ids) == len(BROKERS)
    assert services["kafka"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert services["kafka"]["environment"]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"

    full = interpolate(raw, full_env)["services"]
    voters = {}
    for v in full["kafka"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","):
        node, _, address = v.partition("@")
        voters[node] = address
    assert voters == {full[b]["environment"]["KAFKA_NODE_ID"]: f"{b}:9093" for b in BROKERS}
    for b in BROKERS:
        env = full[b]["environment"]
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == full["kafka"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == len(BROKERS)
        assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
    assert read_env_file(FULL_ENV)["COMPOSE_PROFILES"].split(",")[0] == "full"


@pytest.mark.parametrize("variant", ["defaults", "full"])
def test_socialpulse_environment_is_valid_settings(raw, full_env, variant):
    """The environment each socialpulse container gets loads as Settings and points at the compose servers."""
    doc = interpolate(raw, full_env if variant == "full" else {})
    services = doc["services"]
    ch = services["clickhouse"]["environment"]
    brokers = [b for b in BROKERS if variant == "full" or "profiles" not in services[b]]
    for name in SOCIALPULSE_SERVICES:
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        s = load_settings(environ=env)
        assert not s.kafka_is_embedded and not s.clickhouse_is_embedded
        assert sorted(s.kafka_bootstrap.split(",")) == sorted(f"{b}:9092" for b in brokers)
        assert s.replication_factor == len(brokers)
        assert s.clickhouse_host == "clickhouse" and s.clickhouse_port == 9000
        assert (s.clickhouse_user, s.clickhouse_password, s.clickhouse_database) == \
            (ch["CLICKHOUSE_USER"], ch["CLICKHOUSE_PASSWORD"], ch["CLICKHOUSE_DB"])
        assert s.partitions == Settings().partitions
        assert str(s.data_dir) == "/var/lib/socialpulse"


def test_clickhouse_service(compose):
    ch = compose["services"]["clickhouse"]
    assert set(ch["environment"]) >= {"CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DB"}
    volumes = {v.split(":")[0]: v.split(":")[1] for v in ch["volumes"]}
    assert volumes.get("clickhouse-data") == "/var/lib/clickhouse"
    assert "/ping" in " ".join(ch["healthcheck"]["test"])
    for port in ch.get("ports", []):
        assert str(port).startswith("127.0.0.1:"), "ClickHouse is published on the host's loopback only"


def test_named_volumes_are_declared(compose):
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} not declared"


# --- Grafana provisioning ---------------------------------------------------------------------------------------

def test_grafana_provisioning(yaml, compose):
    ds = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "clickhouse.yml").read_text())
    (source,) = ds["datasources"]
    assert source["type"] == "grafana-clickhouse-datasource"
    assert source["jsonData"]["host"] == "clickhouse" and source["jsonData"]["port"] == 9000
    grafana_env = compose["services"]["grafana"]["environment"]
    assert "grafana-clickhouse-datasource" in grafana_env["GF_PLUGINS_PREINSTALL"]
    for value in (source["jsonData"]["username"], source["jsonData"]["defaultDatabase"],
                  source["secureJsonData"]["password"]):
        assert value.lstrip("$") in grafana_env, f"{value} is not in the grafana service's environment"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "socialpulse.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
    assert any(v.endswith(":/etc/grafana/dashboards:ro") for v in compose["services"]["grafana"]["volumes"])

    dashboards = sorted((GRAFANA / "dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        board = json.loads(path.read_text())
        assert board["uid"] and board["panels"]
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == source["uid"], panel["title"]
            for target in panel["targets"]:
                assert target["rawSql"].lstrip().upper().startswith("SELECT"), panel["title"]


# --- Dockerfile and .dockerignore -------------------------------------------------------------------------------

def test_dockerfile():
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert bases and all(b.startswith("python:3.11-slim") for b in bases)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"pip install \.(\s|$)", text), "install the package itself (pinned deps, no extras)"
    lowered = text.lower()
    assert "chdb" not in re.sub(r"#.*", "", lowered) and "openjdk" not in lowered and "default-jre" not in lowered
    healthcheck = re.search(r"^HEALTHCHECK\b.*?(?=^\S|\Z)", text, re.M | re.S).group(0)
    assert "http://127.0.0.1:6066/health" in healthcheck


def test_dockerignore():
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert {".venv", ".socialpulse", "pipeline/ops/services/broker/lib", "tests", ".git", ".env"} <= patterns
    for needed in ("pipeline", "agents", "schemas", "pyproject.toml", "README.md"):
        assert needed not in patterns, f"{needed} is needed in the build context"
