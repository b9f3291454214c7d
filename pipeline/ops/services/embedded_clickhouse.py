"""Embedded ClickHouse server from the chdb-core wheel, in its own process (I/O)."""
from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from pipeline.ops.services.process import LaunchError, ManagedProcess, pid_alive, port_bindable, wait_until
from pipeline.settings import Settings


class EmbeddedClickHouse:
    """Start/stop/inspect the embedded ClickHouse server; data under `<data_dir>/clickhouse`. Locked: the only user
    clients can log in as is `s.clickhouse_user` with its password (`embedded_clickhouse_settings`)."""

    def __init__(self, s: Settings):
        from pipeline.ops.credentials import embedded_clickhouse_settings

        self.s = embedded_clickhouse_settings(s)
        self.home = Path(s.data_dir).resolve() / "clickhouse"
        self.proc = ManagedProcess("clickhouse", Path(s.data_dir) / "run")

    @property
    def port(self) -> int:
        return self.s.clickhouse_port

    def start(self, timeout: float = 60.0) -> int:
        """Start the server in the background and wait until it answers `SELECT 1`. Returns the pid."""
        pid = self.proc.pid()
        if pid is not None:
            return pid
        for port, var in ((self.port, "SOCIALPULSE_CLICKHOUSE_PORT"),
                          (self.s.clickhouse_http_port, "SOCIALPULSE_CLICKHOUSE_HTTP_PORT")):
            if not port_bindable(port):
                raise LaunchError(f"port {port} is already in use: stop what listens there or set {var}.")
        try:
            import chdb  # noqa: F401
        except ImportError:
            raise LaunchError("the chdb-core package is missing: run `make setup`.") from None
        from pipeline.ops.services.clickhouse_server import write_users_config

        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)  # the table files on disk are no more readable than the server
        try:  # the password reaches the server as a sha256 in a 0600 file, never on a command line
            write_users_config(self.home, self.s.clickhouse_user, self.s.clickhouse_password)
        except ValueError as exc:
            raise LaunchError(f"{exc} (SOCIALPULSE_CLICKHOUSE_USER / SOCIALPULSE_CLICKHOUSE_PASSWORD)") from None
        argv = [sys.executable, "-m", "pipeline.ops.services.clickhouse_server", str(self.home), str(self.port),
                str(self.s.clickhouse_http_port)]
        if self.s.clickhouse_secure:  # TLS with the embedded certificate in front of chdb's listeners (tls_proxy.py)
            if not (self.s.embedded_tls_certfile and self.s.embedded_tls_keyfile):
                raise LaunchError("SOCIALPULSE_CLICKHOUSE_SECURE on the embedded ClickHouse server needs its certificate:"
                                  " set SOCIALPULSE_EMBEDDED_TLS_CERTFILE and SOCIALPULSE_EMBEDDED_TLS_KEYFILE (PEM)")
            argv += [str(Path(f).resolve()) for f in (self.s.embedded_tls_certfile, self.s.embedded_tls_keyfile)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        return self.proc.launch(argv, self.healthy, timeout=timeout, env=env, interval=0.2,
                                failure=f"ClickHouse did not answer on 127.0.0.1:{self.port} within {timeout:.0f}s")

    def healthy(self) -> bool:
        """True when the server answers `SELECT 1` over the native protocol."""
        from pipeline.adapters.clickhouse.client import client

        logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)  # a refused probe is not an error
        c = client(self.s, database=False, connect_timeout=2, send_receive_timeout=5)
        try:
            return c.execute("SELECT 1") == [(1,)]
        finally:
            c.disconnect()

    def stop(self, timeout: float = 20.0) -> bool:
        """Write to the stop FIFO (clean shutdown), then SIGTERM/SIGKILL if it does not exit."""
        pid = self.proc.pid()
        if pid is None:
            return False
        fifo = self.home / "stop.fifo"
        if fifo.exists():
            # Opening a FIFO for writing blocks until the reader has it open: do it in a thread with a timeout.
            def poke() -> None:
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:
                    return
                try:
                    os.write(fd, b"stop\n")
                finally:
                    os.close(fd)
            t = threading.Thread(target=poke, daemon=True)
            t.start()
            t.join(2)
            if wait_until(lambda: not pid_alive(pid), timeout / 2, interval=0.1):
                self.proc.pid_file.unlink(missing_ok=True)
                return True
        return self.proc.terminate(timeout / 2)

    def pid(self):
        return self.proc.pid()
