"""Run a Faust worker for the pipeline in this process (I/O)."""
from __future__ import annotations

from pipeline.settings import Settings


def run_worker(s: Settings) -> None:
    """Block running the worker until SIGINT/SIGTERM; Faust commits what was processed on the way out."""
    import faust

    from pipeline.app import create_app

    if s.uvloop:
        import asyncio

        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # before faust creates its loops (and its consumer's)

    p = create_app(s)
    level = {"warn": "warn", "warning": "warn"}.get(s.log_level.lower(), s.log_level.lower())
    # Port and bind address come from the app's web_* settings (127.0.0.1 by default: two workers on one host
    # must not collide on Faust's 0.0.0.0:6066 default).
    worker = faust.Worker(p.app, loglevel=level, quiet=True, redirect_stdouts=False, override_logging=False)
    worker.execute_from_commandline()
