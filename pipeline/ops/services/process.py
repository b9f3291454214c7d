"""Background process supervision for `up`/`down`/`status`: pid files, port checks, health waits (I/O)."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from pipeline.adapters.net import free_port, port_bindable, port_in_use  # noqa: F401 - used by the launchers


class LaunchError(RuntimeError):
    """A component could not be started; the message says what and how to fix it (shown without traceback)."""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    try:  # a zombie child of ours is not alive
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


@dataclass
class ManagedProcess:
    """A background process with a pid file and a log file under the data dir."""

    name: str
    run_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> Optional[int]:
        """The pid from the pid file if that process is alive, else None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if pid_alive(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def spawn(self, argv: Sequence[str], *, cwd: Optional[Path] = None, env: Optional[dict] = None) -> int:
        """Start argv detached (own session), output appended to the log file (mode 0600: logs may name customers'
        handles; an existing one is tightened); writes the pid file."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "ab") as log:
            proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def launch(self, argv: Sequence[str], ready: Callable[[], bool], *, timeout: float, failure: str,
               interval: float = 0.25, cwd: Optional[Path] = None, env: Optional[dict] = None) -> int:
        """Spawn argv and wait until `ready()`; if the process dies or `timeout` passes, stop it and raise
        LaunchError(`failure` + where the log is + its last lines). Returns the pid."""
        pid = self.spawn(argv, cwd=cwd, env=env)
        if not wait_until(lambda: not pid_alive(pid) or ready(), timeout, interval) or not pid_alive(pid):
            tail = self.log_tail()
            self.terminate(5)
            raise LaunchError(f"{failure}; see {self.log_file}\n{tail}")
        return pid

    def terminate(self, timeout: float = 20.0) -> bool:
        """SIGTERM, then SIGKILL after `timeout`; True if a process was stopped."""
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        if not wait_until(lambda: not pid_alive(pid), timeout):
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll `check` until it is true or `timeout` seconds passed; returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except Exception:  # noqa: BLE001 - a health probe failing means "not yet"
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
