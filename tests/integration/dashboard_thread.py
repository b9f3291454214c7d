"""The dashboard app served in-process for integration tests (test_dashboard_browser, test_http_ingest)."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request

from pipeline.ops.services.process import free_port
from pipeline.settings import Settings


class DashboardThread:
    """The dashboard app served in-process on 127.0.0.1:<free port> from a thread with its own event loop."""

    def __init__(self, settings: Settings, token: str):
        self.s, self.token = settings, token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        from aiohttp import web

        from pipeline.web.server import create_web_app, runner_options

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        # the same access logger and header timeout as `socialpulse dashboard`
        runner = web.AppRunner(create_web_app(self.s, self.token), **runner_options(self.s))
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout) or self._error:
            raise RuntimeError(f"dashboard did not start: {self._error!r}")
        # "live" = the feed's consumer has its partitions and positions: alerts produced from now on reach pages.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(self.url + "health", timeout=5) as r:
                if json.load(r).get("live"):
                    return
            time.sleep(0.3)
        raise RuntimeError("dashboard feed never became live")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
