"""Stand-ins for what a stage's handlers touch besides their own code: a faust table's in-memory store (a dict, as
faust's memory store is), the outbox (records what would be produced) and consumed events."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import msgspec

from pipeline.codec import encode
from pipeline.contract.records import ComplaintInfo, CustomerContext, EnrichedMention, Sentiment


class DictTable:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}


class RecordingOutbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Optional[bytes], Optional[bytes], Optional[int], list]] = []

    async def send(self, topic: str, key: Optional[bytes], value: Optional[bytes], *, partition: Optional[int] = None,
                   headers: Optional[list] = None) -> None:
        self.sent.append((topic, key, value, partition, list(headers or [])))

    def to(self, topic: str) -> list[tuple]:
        return [s for s in self.sent if s[0] == topic]

    def take(self) -> list:
        return []


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]


@dataclass
class Event:
    message: Message
    headers: list = field(default_factory=list)

    @property
    def key(self) -> Optional[bytes]:
        return self.message.key

    @property
    def value(self) -> Optional[bytes]:
        return self.message.value


def event(topic: str, value: Optional[bytes], *, key: Optional[bytes] = None, partition: int = 0, offset: int = 0,
          headers: Any = ()) -> Event:
    return Event(Message(topic, partition, offset, key, value), list(headers))


def mention(n: int, *, customer: str = "C1", brand: str = "acme", compound: float = -0.7, complaint: bool = True,
            created_at: str = "2026-11-30T10:15:00.000Z") -> EnrichedMention:
    label = "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
    return EnrichedMention(mention_id=f"twitter:{n}", id=str(n), channel="twitter", author=f"a{n}", text=f"text {n}",
                           created_at=created_at, sentiment=Sentiment(compound, 0.0, 0.5, 0.5, label),
                           customer_id=customer, is_prospect=False,
                           customer=CustomerContext(tier="standard", lifetime_value=0.0, influence=0.1),
                           complaint=ComplaintInfo(is_complaint=complaint, score=0.9 if complaint else 0.1,
                                                   cues=["refund"] if complaint else []),
                           processed_at=created_at, brand=brand)


def enc(m: EnrichedMention) -> bytes:
    return encode(m)


def dec(raw: bytes, kind):
    return msgspec.json.decode(raw, type=kind)
