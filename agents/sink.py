"""ClickHouse sink: the worker runs `pipeline.sink.service.SinkService`, its own aiokafka consumer (group
`<app_id>-sink`) on `mentions.enriched`, `alerts.complaints`, `alerts.actions` and `customers.identities`, committing
offsets only after ClickHouse acknowledged the batch (docs/guarantees.md)."""
from __future__ import annotations

from pipeline.app import Pipeline
from pipeline.sink.service import SinkService


def register(p: Pipeline) -> None:
    sink = SinkService(p.settings)
    p.services["sink"] = sink
    p.services["writer"] = sink.writer
    p.app.service(sink)
