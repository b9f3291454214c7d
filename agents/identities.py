"""Identities (on `customers.identities`): link a prospect's history to the customer its handle joined (packed, see
`pipeline.runtime.packing`)."""
from __future__ import annotations

from typing import Any

from pipeline import metrics
from pipeline.codec import decoder
from pipeline.contract import topics
from pipeline.contract.records import Identity
from pipeline.domain.identity import prospect_id
from pipeline.runtime.app import Pipeline
from pipeline.runtime.outbox import Outbox, completed_batches
from pipeline.runtime.packing import KIND_HEADER, LINKS, Packer

DEC_IDENTITY = decoder(Identity)


def pack_links(events: list[Any], packer: Packer) -> int:
    """The prospect → customer links of a batch of identities, added to `packer` (key: the prospect id of the
    handle, value: the customer id); tombstones and unreadable identities are skipped. Returns the links added."""
    n = 0
    for event in events:
        if event.value is None or event.key is None:
            continue  # tombstone: the identity table drops it; history stays with the customer
        try:
            ident = DEC_IDENTITY.decode(event.value)
        except Exception:  # noqa: BLE001 - the identity table and the sink skip it too
            continue
        packer.add(prospect_id(event.key.decode()).encode(), ident.customer_id.encode())
        n += 1
    return n


def register(p: Pipeline) -> None:
    s = p.settings
    links = metrics.STAGE_MESSAGES.labels("identities", "link")

    @p.app.agent(p.topic(topics.IDENTITIES), name="identity_links")
    async def identity_links(stream):
        """Per batch of identities: one packed LINK message per target partition of `mentions.by_customer` (a CRM load
        of a million identities is a few thousand messages, not a million); acked after the broker has them."""
        out = Outbox(p.app)
        packer = Packer(s.partitions)
        async for events, completer in completed_batches(stream, s.process_batch_size,
                                                         p.health.reporter("identity_links")):
            links.inc(pack_links(events, packer))
            for partition, value in packer.messages():
                await out.send(topics.BY_CUSTOMER, None, value, partition=partition, headers=[(KIND_HEADER, LINKS)])
            await completer.submit(events, out.take())
