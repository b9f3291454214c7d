"""Wiring only: one module per stage registers its agents on the worker's app; `build_worker` puts them together.

Only `pipeline.ops` (the CLI's worker command) and the benchmark tools import this package."""
from __future__ import annotations

from pipeline.runtime.app import Pipeline, create_app
from pipeline.settings import Settings


def build_worker(s: Settings, *, with_sink: bool = True) -> Pipeline:
    """The worker's faust app with every stage registered: ingest, detect, spikes, identity links, the ClickHouse
    sink, the worker's own HTTP routes and the webhooks (a no-op unless SOCIALPULSE_WEBHOOK_URLS is set)."""
    from agents import detect, identities, ingest, sink, spikes, webhooks, worker_http

    p = create_app(s)
    ingest.register(p)
    detect.register(p)
    spikes.register(p)
    identities.register(p)
    if with_sink:
        sink.register(p)
    worker_http.register(p)
    webhooks.register(p)
    return p
