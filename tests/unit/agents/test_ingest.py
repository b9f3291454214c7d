"""agents/ingest.py: one batch of raw mentions → packed mentions per customer partition, dead letters, and the raw
partitions' event-time progress in the header."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from agents.ingest import IngestStage
from pipeline.codec import decode
from pipeline.contract import topics
from pipeline.contract.records import DeadLetter, EnrichedMention, Identity
from pipeline.domain.complaints.model import ComplaintModel
from pipeline.domain.enrich import MentionProcessor
from pipeline.domain.mention import parse_timestamp
from pipeline.runtime.packing import partition_for, unpack
from pipeline.runtime.watermarks import header_marks
from pipeline.settings import Settings
from tests.unit.agents.conftest import Event, Message, RecordingOutbox

S = Settings(partitions=3)
CRM = {"twitter:annb": Identity(key="twitter:annb", customer_id="C042", tier="gold", lifetime_value=900.0)}


@dataclass
class RawMessage(Message):
    timestamp: float = 1_764_500_000.0


def raw(partition: int, offset: int, doc) -> Event:
    value = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return Event(RawMessage(topics.RAW, partition, offset, b"k", value))


def test_a_batch_is_packed_per_customer_partition_with_dead_letters_and_progress():
    stage = IngestStage(S, MentionProcessor(ComplaintModel.load_default()), CRM.get)
    out = RecordingOutbox()
    events = [
        raw(0, 1, {"id": "1", "channel": "twitter", "author": "annb", "text": "love it",
                   "created_at": "2026-11-30T10:00:00Z"}),
        raw(0, 2, {"id": "2", "channel": "twitter", "author": "bob", "text": "meh",
                   "created_at": "2026-11-30T11:00:00Z"}),
        raw(1, 7, b"{not json"),
    ]
    asyncio.run(stage.process(out, events, "2026-11-30T12:00:00.000Z"))
    (letter,) = [decode(s[2], DeadLetter) for s in out.to(topics.DEADLETTER)]
    assert (letter.stage, letter.partition, letter.offset) == ("ingest", 1, 7)
    packed = {s[3]: s for s in out.to(topics.BY_CUSTOMER)}
    assert set(packed) == {0, 1, 2}  # every customer partition hears the progress, with or without records
    records = {key: decode(value, EnrichedMention) for s in packed.values() for key, value in unpack(s[2])}
    assert records[b"C042"].customer.tier == "gold" and not records[b"C042"].is_prospect
    (prospect,) = [k for k in records if k != b"C042"]
    assert records[prospect].is_prospect
    for key in records:
        assert key in dict(unpack(packed[partition_for(key, S.partitions)][2]))  # Kafka's partition of the key
    for s in packed.values():  # raw partition 0 got to 11:00; partition 1 had only junk: no claim for it
        assert header_marks(s[4]) == {0: parse_timestamp("2026-11-30T11:00:00Z").timestamp()}
