"""The dashboard app served in-process for integration tests (test_dashboard_browser, test_http_ingest)."""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from typing import Iterator

import pytest

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


def sse_events(port: int, token: str, deadline: float) -> Iterator[tuple[str, dict]]:
    """(event, data) of a dashboard's /api/stream on 127.0.0.1:`port` (dashboard token) until `deadline`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", "/api/stream", headers={"Authorization": f"Bearer {token}",
                                                     "Accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200
        event, data = "", []
        while time.monotonic() < deadline:
            raw = resp.readline()
            if not raw:
                return
            text = raw.decode().rstrip("\r\n")
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                data.append(text[6:])
            elif text == "" and event:
                yield event, json.loads("\n".join(data))
                event, data = "", []
    finally:
        conn.close()


def debian_tool_or_skip(path: str, package: str) -> str:
    """`path` (a Debian package's binary), installing `package` once if it is missing and we are root; else skip
    (`make setup` installs them)."""
    if os.path.exists(path):
        return path
    reason = f"{path} is absent"
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            subprocess.run(["apt-get", "install", "-y", "-q", package], check=True, timeout=600,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (subprocess.SubprocessError, OSError) as exc:
            reason += f" and `apt-get install {package}` failed ({type(exc).__name__})"
        if os.path.exists(path):
            return path
    else:
        reason += " and cannot be installed here (needs root + apt-get; `make setup` installs it)"
    pytest.skip(reason)
