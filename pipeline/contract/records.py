"""The records that travel on the topics (msgspec Structs).

These types are the data contract of ARCHITECTURE.md; `schemas/*.json` are generated from them
(`socialpulse schemas --write`) and a test fails when code and files disagree.
"""
from __future__ import annotations

from typing import Annotated, Any, Optional

import msgspec
from msgspec import Meta


#: Bump on any breaking change to a public record; stored in every EnrichedMention.
SCHEMA_VERSION = 1

#: Hard caps on raw input; anything larger is rejected to the dead-letter topic (docs/guarantees.md).
MAX_ID_LEN = 256
MAX_TEXT_LEN = 100_000
MAX_HANDLE_LEN = 320

Channel = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="lowercase word, e.g. twitter, email")]
SourceId = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LEN)]
Handle = Annotated[str, Meta(min_length=1, max_length=MAX_HANDLE_LEN)]
Text = Annotated[str, Meta(max_length=MAX_TEXT_LEN)]
ShortStr = Annotated[str, Meta(max_length=2048)]
NonNegInt = Annotated[int, Meta(ge=0, le=10**12)]
NonNegFloat = Annotated[float, Meta(ge=0)]
Score01 = Annotated[float, Meta(ge=0, le=1)]


class MentionFields(msgspec.Struct, kw_only=True):
    """The optional fields of a mention: sent on a RawMention, kept as they are on its EnrichedMention (`brand` may
    be filled in from brands.yml)."""

    brand: Optional[ShortStr] = None
    url: Optional[ShortStr] = None
    lang: Optional[Annotated[str, Meta(max_length=16)]] = None
    author_name: Optional[ShortStr] = None
    author_followers: Optional[NonNegInt] = None
    author_email: Optional[Handle] = None
    in_reply_to: Optional[ShortStr] = None
    metadata: Optional[dict[str, Any]] = None


#: The names of MentionFields, in order.
MENTION_FIELDS: tuple[str, ...] = tuple(f.name for f in msgspec.structs.fields(MentionFields))


class RawMention(MentionFields, kw_only=True, omit_defaults=True):
    """A public mention as a producer sends it to `mentions.raw` (key `<channel>:<author>`)."""

    id: SourceId
    channel: Channel
    author: Handle
    text: Text
    created_at: Optional[str] = None


class IdentityRef(msgspec.Struct, kw_only=True):
    """One social handle of a customer."""

    channel: Channel
    handle: Handle


class Customer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A CRM record as loaded by `socialpulse customers load` (JSONL or CSV)."""

    customer_id: Annotated[str, Meta(min_length=1, max_length=MAX_ID_LEN)]
    name: ShortStr = ""
    emails: list[Handle] = []
    tier: Annotated[str, Meta(max_length=32)] = "standard"
    lifetime_value: NonNegFloat = 0.0
    identities: list[IdentityRef] = []
    followers: Optional[NonNegInt] = None


class Identity(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Value on `customers.identities` (key `<channel>:<handle>` or `email:<addr>`): the customer a handle belongs to,
    with the customer attributes the worker needs at lookup time. A null value (tombstone) erases the link."""

    key: str
    customer_id: str
    tier: str = "standard"
    lifetime_value: float = 0.0
    followers: Optional[int] = None
    name: str = ""
    updated_at: Optional[str] = None


class Sentiment(msgspec.Struct, frozen=True):
    """VADER scores of one text plus the label derived from `compound`."""

    compound: float
    pos: float
    neu: float
    neg: float
    label: str


class CustomerContext(msgspec.Struct, kw_only=True):
    """Customer attributes attached to an enriched mention."""

    tier: str
    lifetime_value: float
    influence: Score01


class ComplaintInfo(msgspec.Struct, kw_only=True):
    is_complaint: bool
    score: Score01
    cues: list[str]


class EnrichedMention(MentionFields, kw_only=True, omit_defaults=False):
    """Value on `mentions.enriched` (key customer/prospect id): every RawMention field plus the enrichment."""

    mention_id: str
    id: str
    channel: str
    author: str
    text: str
    created_at: str
    sentiment: Sentiment
    customer_id: str
    is_prospect: bool
    customer: CustomerContext
    complaint: ComplaintInfo
    processed_at: str
    schema_version: int = SCHEMA_VERSION


class PriorComplaints(msgspec.Struct, kw_only=True):
    count: int
    window_days: int


class AlertMention(msgspec.Struct, kw_only=True):
    """One of the mentions behind a spike alert (the hour's most negative ones)."""

    mention_id: str
    text: str
    sentiment_compound: float
    channel: str = ""
    customer_id: str = ""


class Alert(msgspec.Struct, kw_only=True):
    """Value on `alerts.complaints` (key customer/prospect id). `alert_id` is derived from its cause, so a replay
    never makes a second alert."""

    alert_id: str
    type: str
    severity: str
    reasons: list[str]
    mention_id: str
    customer_id: str
    brand: Optional[str]
    channel: str
    text: str
    sentiment: Sentiment
    prior_complaints: PriorComplaints
    channels_complained_on: list[str]
    created_at: str
    is_prospect: bool = False
    customer: Optional[CustomerContext] = None
    complaint_score: float = 0.0
    #: spike alerts: the event-time hour (ISO start), its count, baseline mean and threshold, and the hour's most
    #: negative mentions (most negative first; `mention_id` is the first of them)
    window_start: Optional[str] = None
    count: Optional[int] = None
    baseline_mean: Optional[float] = None
    threshold: Optional[float] = None
    top_mentions: list[AlertMention] = []
    schema_version: int = SCHEMA_VERSION


class AlertAction(msgspec.Struct, kw_only=True):
    """Value on `alerts.actions` (key alert id): what a person did with an alert (ack, resolve, assign), or their
    verdict on the complaint model: `not_complaint` / `complaint` on a complaint alert, `missed_complaint` on a
    mention the model did not flag (no alert: `alert_id` is empty and the key is the mention id)."""

    alert_id: str
    action: Annotated[str, Meta(pattern=r"^(ack|resolve|assign|not_complaint|complaint|missed_complaint)$")]
    by: ShortStr = ""
    assignee: Optional[ShortStr] = None
    note: Optional[ShortStr] = None
    at: str = ""
    #: verdicts only: the mention judged (an alert's own mention) and its customer, brand and channel
    mention_id: Optional[ShortStr] = None
    customer_id: Optional[ShortStr] = None
    brand: Optional[ShortStr] = None
    channel: Optional[ShortStr] = None


class DeadLetter(msgspec.Struct, kw_only=True):
    """Value on `mentions.deadletter` (key = original key): a rejected input, never dropped."""

    reason: str
    stage: str
    topic: str
    partition: int
    offset: int
    key: Optional[str]
    value: Optional[str]
    value_encoding: str  # "utf-8" or "base64"
    failed_at: str
