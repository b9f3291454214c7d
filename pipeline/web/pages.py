"""The dashboard pages and the open probe endpoints: `/` (static/index.html), `/customer` (static/customer.html),
`/signed-out` (static/signed-out.html, no token needed: where POST /logout leads);
the files under /static/ are served by the router, see `server.create_web_app`; /health (liveness, and whether
the live feed has joined) and /metrics (Prometheus text format)."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from pipeline import metrics
from pipeline.web.api import FEED

STATIC_DIR = Path(__file__).resolve().parent / "static"


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def customer_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "customer.html")


async def signed_out(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "signed-out.html")


async def health(request: web.Request) -> web.Response:
    feed = request.app.get(FEED)
    live = bool(feed is not None and feed.ready.is_set())
    return web.json_response({"ok": True, "live": live})


async def prometheus(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": "text/plain; version=0.0.4"})
