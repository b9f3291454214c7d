"""Worker web routes: /metrics (Prometheus) and /health on the worker's own port, and nothing else (faust's own
views are off: they would show table contents to anyone on the host)."""
from __future__ import annotations

from pipeline import metrics
from pipeline.runtime import faust_compat
from pipeline.runtime.app import Pipeline


def register(p: Pipeline) -> None:
    app = p.app
    faust_compat.only_own_views(app)  # /health and /metrics only: no /router/, /table/ (table contents), "/"

    @app.page("/metrics")
    async def prometheus(web, request):
        return web.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

    @app.timer(5.0)
    async def observe_lag() -> None:
        """Consumer lag per topic (high-water mark − committed offset) for the partitions this worker owns."""
        consumer = app.consumer
        done = faust_compat.committed_offsets(app)
        lag: dict[str, int] = {}
        for tp in consumer.assignment():
            committed = done.get(tp)
            high = consumer.highwater(tp)
            if high is None:
                continue
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, high - (committed or 0))
        for topic, n in lag.items():
            metrics.CONSUMER_LAG.labels(topic).set(n)

    @app.timer(30.0)
    async def observe_tables() -> None:
        """Keys and encoded bytes of each stage's table: what the worker's state holds (the soak run reads them
        beside the RSS to tell state that fills a window from memory that leaks)."""
        for name, table in p.tables.items():
            data = table.data
            metrics.TABLE_KEYS.labels(name).set(len(data))
            metrics.TABLE_BYTES.labels(name).set(sum(len(v) for v in data.values() if v is not None))

    @app.page("/health")
    async def health(web, request):
        table = p.identities
        ready = bool(table is not None and table.ready.is_set()) and not p.health.failures
        body = {"ready": ready, "identities": len(table) if table else 0}
        if p.health.failures:
            body["failed"] = dict(p.health.failures)  # a stage's batch completer stopped: restart the worker
        return web.json(body, status=200 if ready else 503)
