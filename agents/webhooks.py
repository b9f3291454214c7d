"""Webhooks (on `alerts.complaints`): offer the alerts that match the webhook rules to the dispatcher, which POSTs
them in the background — a slow or dead endpoint never holds back the stream (see pipeline/adapters/webhooks.py)."""
from __future__ import annotations

from typing import Optional

import msgspec

from pipeline import metrics
from pipeline.adapters.webhooks import WebhookDispatcher, matches, split_list
from pipeline.codec import decoder
from pipeline.contract import topics
from pipeline.contract.records import Alert
from pipeline.runtime.app import Pipeline


def register(p: Pipeline) -> Optional[WebhookDispatcher]:
    """Add the dispatcher service and its agent when `webhook_urls` is set; otherwise do nothing (returns None)."""
    s = p.settings
    if not split_list(s.webhook_urls):
        return None
    dispatcher = WebhookDispatcher(s)
    p.webhooks = dispatcher
    p.app.service(dispatcher)
    brands = split_list(s.webhook_brands)
    dec = decoder(Alert)
    offered = metrics.STAGE_MESSAGES.labels("webhooks", "offered")
    skipped = metrics.STAGE_MESSAGES.labels("webhooks", "skipped")
    invalid = metrics.STAGE_MESSAGES.labels("webhooks", "invalid")

    @p.app.agent(p.topic(topics.ALERTS), name="webhooks")
    async def webhooks(stream):
        async for value in stream:
            try:
                alert = dec.decode(value)
            except msgspec.MsgspecError:
                invalid.inc()
                continue
            if matches(alert, s.webhook_min_severity, brands):
                dispatcher.offer(alert)
                offered.inc()
            else:
                skipped.inc()

    return dispatcher
