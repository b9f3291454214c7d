"""ClickHouse sink: the worker runs `pipeline.runtime.sink.SinkService`, its own aiokafka consumer (group
`<app_id>-sink`) on `mentions.enriched`, `alerts.complaints`, `alerts.actions` and `customers.identities`, committing
offsets only after ClickHouse acknowledged the batch (docs/guarantees.md)."""
from __future__ import annotations

from pipeline.runtime.app import Pipeline
from pipeline.runtime.sink import SinkService


def register(p: Pipeline) -> None:
    sink = SinkService(p.settings)
    p.sink = sink
    p.app.service(sink)
