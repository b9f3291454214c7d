"""Run a Faust worker for the pipeline in this process (I/O)."""
from __future__ import annotations

import logging
from pathlib import Path

from pipeline.ops.brands_suggest import blind_configuration_warning
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def worker_dirs(s: Settings) -> list[Path]:
    """The directories a worker writes: the data dir and faust's state dir under it (`<data_dir>/faust`)."""
    return [Path(s.data_dir), Path(s.data_dir) / "faust"]


def ensure_worker_dirs(s: Settings) -> None:
    """Create the worker's directories (parents too); a path that cannot be one is a ValueError naming it."""
    for path in worker_dirs(s):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # FileExistsError (a file in the way), NotADirectoryError, PermissionError, …
            raise ValueError(f"cannot create the data dir {path} ({exc.strerror or exc}): set SOCIALPULSE_DATA_DIR "
                             "or --data-dir to a directory this user can write") from None


def check_worker_port(s: Settings) -> None:
    """A ValueError naming the setting when the worker's web port is taken (e.g. by another worker on this host),
    instead of faust's bind traceback once it has half started."""
    from pipeline.ops.services.process import port_bindable

    if not port_bindable(s.worker_port, s.worker_host):
        raise ValueError(f"worker port {s.worker_host}:{s.worker_port} is already in use (another worker on this "
                         "host?): give each worker its own SOCIALPULSE_WORKER_PORT (docs/operations.md, "
                         "\"More workers on one host\")")


def run_worker(s: Settings) -> None:
    """Block running the worker until SIGINT/SIGTERM; Faust commits what was processed on the way out."""
    ensure_worker_dirs(s)  # faust creates only the last level of its datadir and fails on a missing data dir
    check_worker_port(s)
    blind = blind_configuration_warning(s)  # raises the one-line BrandsError of a broken brands.yml
    if blind:
        log.warning(blind)

    import faust

    from agents import build_worker

    if s.uvloop:
        import asyncio

        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # before faust creates its loops (and its consumer's)

    p = build_worker(s)
    level = {"warn": "warn", "warning": "warn"}.get(s.log_level.lower(), s.log_level.lower())
    # Port and bind address come from the app's web_* settings (127.0.0.1 by default: two workers on one host
    # must not collide on Faust's 0.0.0.0:6066 default).
    worker = faust.Worker(p.app, loglevel=level, quiet=True, redirect_stdouts=False, override_logging=False)
    worker.execute_from_commandline()
