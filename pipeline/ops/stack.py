"""`up` / `down` / `status`: the embedded stack and the background worker (I/O)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from pipeline.adapters.secretfile import kept_secret
from pipeline.ops.credentials import embedded_clickhouse_settings
from pipeline.ops.services.embedded_clickhouse import EmbeddedClickHouse
from pipeline.ops.services.embedded_kafka import EmbeddedKafka
from pipeline.ops.services.process import LaunchError, ManagedProcess, port_bindable
from pipeline.settings import ENV_PREFIX, Settings


def settings_env(s: Settings) -> dict[str, str]:
    """The environment that hands these settings to a child process."""
    from dataclasses import fields

    env = dict(os.environ)
    for f in fields(s):
        value = getattr(s, f.name)
        if value is None:
            continue
        env[ENV_PREFIX + f.name.upper()] = str(Path(value).resolve()) if isinstance(value, Path) else (
            str(value).lower() if isinstance(value, bool) else str(value))
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


@dataclass
class ComponentStatus:
    name: str
    running: bool
    pid: Optional[int]
    address: str
    embedded: bool

    def as_dict(self) -> dict:
        return {"name": self.name, "running": self.running, "pid": self.pid, "address": self.address,
                "embedded": self.embedded}


class Stack:
    """The components `up` manages for one data dir."""

    def __init__(self, s: Settings):
        s = embedded_clickhouse_settings(s)  # the embedded ClickHouse's password: children get it in their env
        self.s = s
        self.kafka = EmbeddedKafka(s)
        self.clickhouse = EmbeddedClickHouse(s)
        self.worker = ManagedProcess("worker", Path(s.data_dir) / "run")
        self.dashboard = ManagedProcess("dashboard", Path(s.data_dir) / "run")

    def dashboard_token(self) -> str:
        """The configured token, else one generated once and kept (mode 0600) in the data dir."""
        return self.s.dashboard_token or kept_secret(self.run_dir / "dashboard.token")

    @property
    def run_dir(self) -> Path:
        return Path(self.s.data_dir) / "run"

    def ingest_token(self) -> str:
        """The configured ingest token(s) of POST /api/mentions, else one generated once and kept (mode 0600) in
        `<data dir>/run/ingest.token`, like the dashboard's."""
        return self.s.ingest_token or kept_secret(self.run_dir / "ingest.token")

    def dashboard_url(self) -> str:
        """URL that logs the browser in (sets the session cookie); shown on the user's terminal only."""
        host = "127.0.0.1" if self.s.dashboard_host in ("0.0.0.0", "::") else self.s.dashboard_host
        return f"http://{host}:{self.s.dashboard_port}/?token={self.dashboard_token()}"

    def start_dashboard(self, timeout: float = 30.0) -> int:
        pid = self.dashboard.pid()
        if pid is not None:
            return pid
        if not port_bindable(self.s.dashboard_port, self.s.dashboard_host):
            raise LaunchError(f"dashboard port {self.s.dashboard_port} is already in use: "
                              "set SOCIALPULSE_DASHBOARD_PORT.")
        env = settings_env(self.s)
        env["SOCIALPULSE_DASHBOARD_TOKEN"] = self.dashboard_token()
        env["SOCIALPULSE_INGEST_TOKEN"] = self.ingest_token()

        def ready() -> bool:
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{self.s.dashboard_port}/health", timeout=2) as r:
                return r.status == 200

        return self.dashboard.launch([sys.executable, "-m", "pipeline.cli", "dashboard"], ready, timeout=timeout,
                                     env=env, interval=0.3, failure="the dashboard did not start")

    def start_worker(self, timeout: float = 90.0) -> int:
        pid = self.worker.pid()
        if pid is not None:
            return pid
        if not port_bindable(self.s.worker_port, self.s.worker_host):
            raise LaunchError(f"worker port {self.s.worker_port} is already in use: set SOCIALPULSE_WORKER_PORT.")
        return self.worker.launch([sys.executable, "-m", "pipeline.cli", "worker"], self.worker_ready,
                                  timeout=timeout, env=settings_env(self.s), interval=0.3,
                                  failure=f"the worker did not become ready within {timeout:.0f}s")

    def worker_ready(self) -> bool:
        import urllib.request

        with urllib.request.urlopen(f"http://{self.s.worker_host}:{self.s.worker_port}/health", timeout=2) as r:
            return r.status == 200

    def up(self, echo: Callable[[str], None], *, worker: bool = True) -> None:
        """Start what is not running (embedded servers only when configured), create topics, migrate, start
        the worker. Idempotent."""
        from pipeline.adapters.clickhouse.migrations import apply_migrations
        from pipeline.adapters.kafka.admin import ensure_kafka_topics

        if self.s.kafka_is_embedded:
            was = self.kafka.pid()
            pid = self.kafka.start()
            echo(f"kafka       {'running' if was else 'started'}  127.0.0.1:{self.s.kafka_port}  pid {pid}")
        else:
            echo(f"kafka       external  {self.s.kafka_bootstrap}")
        if self.s.clickhouse_is_embedded:
            was = self.clickhouse.pid()
            pid = self.clickhouse.start()
            echo(f"clickhouse  {'running' if was else 'started'}  127.0.0.1:{self.s.clickhouse_port} "
                 f"(http {self.s.clickhouse_http_port})  pid {pid}")
        else:
            echo(f"clickhouse  external  {self.s.clickhouse_host}:{self.s.clickhouse_port}")
        created = ensure_kafka_topics(self.s)
        echo(f"topics      {len(created)} created" if created else "topics      present")
        applied = apply_migrations(self.s)
        echo(f"migrations  {len(applied)} applied" if applied else "migrations  up to date")
        if worker:
            from pipeline.ops.brands_suggest import blind_configuration_warning

            blind = blind_configuration_warning(self.s)  # a broken brands.yml stops here, with its one-line error
            if blind:
                echo(f"brands      warning: {blind}")
            was = self.worker.pid()
            pid = self.start_worker()
            echo(f"worker      {'running' if was else 'started'}  http://{self.s.worker_host}:{self.s.worker_port}"
                 f"/metrics  pid {pid}")
            was = self.dashboard.pid()
            pid = self.start_dashboard()
            echo(f"dashboard   {'running' if was else 'started'}  {self.dashboard_url()}  pid {pid}")
            where = "SOCIALPULSE_INGEST_TOKEN" if self.s.ingest_token else self.run_dir.resolve() / "ingest.token"
            echo(f"http ingest POST {self.dashboard_url().split('?')[0]}api/mentions  token: {where}")
        echo(f"logs        {Path(self.s.data_dir).resolve() / 'run'}")

    def down(self, echo: Callable[[str], None]) -> None:
        """Stop the worker first (it flushes), then ClickHouse and Kafka."""
        for name, stop in (("dashboard", lambda: self.dashboard.terminate(10)),
                           ("worker", lambda: self.worker.terminate(30)), ("clickhouse", self.clickhouse.stop),
                           ("kafka", self.kafka.stop)):
            echo(f"{name:<11} {'stopped' if stop() else 'not running'}")

    def status(self) -> list[ComponentStatus]:
        s = self.s
        out = []
        kpid = self.kafka.pid()
        out.append(ComponentStatus("kafka", bool(kpid) if s.kafka_is_embedded else _reachable_kafka(s), kpid,
                                   s.kafka_bootstrap, s.kafka_is_embedded))
        cpid = self.clickhouse.pid()
        out.append(ComponentStatus("clickhouse", bool(cpid) and _healthy(self.clickhouse)
                                   if s.clickhouse_is_embedded else _healthy(self.clickhouse), cpid,
                                   f"{s.clickhouse_host}:{s.clickhouse_port}", s.clickhouse_is_embedded))
        wpid = self.worker.pid()
        out.append(ComponentStatus("worker", bool(wpid), wpid, f"{s.worker_host}:{s.worker_port}", True))
        dpid = self.dashboard.pid()
        out.append(ComponentStatus("dashboard", bool(dpid), dpid, f"{s.dashboard_host}:{s.dashboard_port}", True))
        return out


def _healthy(ch: EmbeddedClickHouse) -> bool:
    try:
        return ch.healthy()
    except Exception:  # noqa: BLE001 - unreachable is a status, not an error
        return False


def _reachable_kafka(s: Settings) -> bool:
    from pipeline.adapters.kafka.admin import kafka_admin

    try:
        admin = kafka_admin(s, timeout_ms=3000)
    except Exception:  # noqa: BLE001
        return False
    admin.close()
    return True
