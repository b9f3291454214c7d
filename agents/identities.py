"""Identities (on `customers.identities`): link a prospect's history to the customer its handle joined."""
from __future__ import annotations

from pipeline import metrics, topics
from pipeline.app import Pipeline
from pipeline.codec import decoder
from pipeline.identity import prospect_id
from pipeline.packing import KIND_HEADER, LINK
from pipeline.records import Identity


def register(p: Pipeline) -> None:
    by_customer = p.topic(topics.BY_CUSTOMER)
    links = metrics.STAGE_MESSAGES.labels("identities", "link")
    dec = decoder(Identity)

    @p.app.agent(p.topic(topics.IDENTITIES), name="identity_links")
    async def identity_links(stream):
        async for event in stream.events():
            if event.value is None or event.key is None:
                continue  # tombstone: the identity table drops it; history stays with the customer
            ident = dec.decode(event.value)
            links.inc()
            await by_customer.send(key=prospect_id(event.key.decode()).encode(), value=ident.customer_id.encode(),
                                   headers={KIND_HEADER: LINK})
