"""Manual identity links, the contact merge of support tools (I/O): `socialpulse customers link|unlink` and the
dashboard's "link to a customer" on a prospect's page both come here.

A link travels exactly like a CRM load: one identity message on `customers.identities` (key `<channel>:<handle>`,
value the customer's attributes), acknowledged by the broker. The worker's identity table then attaches the
handle's next mentions to the customer, its `identity_links` agent moves the prospect's complaint history to the
customer, and the sink writes `identities`, `customers` and `prospect_links` (the customer's timeline and value
then include what the handle wrote as a prospect). An unlink is a tombstone for the key: the next mentions are the
prospect's again, and the sink deletes the key's prospect link, so its past goes back to the prospect.

Every link and unlink is appended to ClickHouse `identity_links` (who, when, what) once the broker has the
message. The customer must be known to ClickHouse (`customers load` first); a handle that belongs to another
customer moves only with `force`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from pipeline.adapters.clickhouse import links as ch
from pipeline.adapters.clickhouse.client import client as make_client
from pipeline.adapters.kafka.config import kafka_python_config
from pipeline.codec import encode
from pipeline.contract.topics import IDENTITIES
from pipeline.domain.identity import (identity_key_of, is_prospect_id, linked_identity, mask_key, prospect_id,
                                      split_identity_key)
from pipeline.domain.mention import to_iso
from pipeline.settings import Settings

SEND_TIMEOUT_S = 30.0


class LinkError(ValueError):
    """A link or unlink that cannot be done as asked; the message says what to do instead."""


@dataclass(frozen=True)
class LinkResult:
    action: str  # link | unlink
    key: str
    customer_id: str
    previous_customer_id: str
    prospect_id: str

    def render(self) -> str:
        shown = mask_key(self.key)
        if self.action == "unlink":
            return (f"unlinked {shown} from {self.customer_id}: its next mentions belong to prospect "
                    f"{self.prospect_id} again, and so does what it wrote as that prospect")
        moved = f" (moved from {self.previous_customer_id})" if self.previous_customer_id else ""
        return (f"linked {shown} to {self.customer_id}{moved}: its next mentions and the history of prospect "
                f"{self.prospect_id} show under {self.customer_id} once the worker and the sink apply it")


def operator() -> str:
    """Who runs the command, for the audit log: the operating-system user name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _send(s: Settings, key: str, value: Optional[bytes], producer: Any = None) -> None:
    """One identity message, acknowledged by every in-sync replica before returning."""
    from kafka import KafkaProducer

    own = producer is None
    if own:
        producer = KafkaProducer(**kafka_python_config(s), acks="all")
    try:
        producer.send(IDENTITIES, key=key.encode(), value=value).get(timeout=SEND_TIMEOUT_S)
    finally:
        if own:
            producer.close()


def _key_of(channel: str, handle: str) -> str:
    try:
        return identity_key_of(channel, handle)
    except ValueError as exc:
        raise LinkError(str(exc)) from None


def link(s: Settings, channel: str, handle: str, customer_id: str, *, by: str, source: str = "cli",
         force: bool = False, producer: Any = None) -> LinkResult:
    """Attach CHANNEL HANDLE to the known customer `customer_id` (see the module docstring)."""
    key = _key_of(channel, handle)
    c = make_client(s)
    try:
        return _link(s, c, key, customer_id, by=by, source=source, force=force, producer=producer)
    finally:
        c.disconnect()


def _link(s: Settings, c: Any, key: str, customer_id: str, *, by: str, source: str, force: bool,
          producer: Any = None) -> LinkResult:
    """`link` of one identity key, on an open ClickHouse client."""
    customer_id = customer_id.strip()
    if not customer_id or is_prospect_id(customer_id):
        raise LinkError(f"{customer_id or 'the customer id'!r} is not a customer id: link a handle to a customer "
                        "loaded with `socialpulse customers load`, not to a prospect")
    customer = ch.customer_record(c, customer_id)
    if customer is None:
        raise LinkError(f"unknown customer {customer_id!r}: load it first with `socialpulse customers load FILE`")
    owner = ch.owner_of(c, key)
    previous = owner[0] if owner and not owner[1] else ""
    if previous == customer_id:
        raise LinkError(f"{mask_key(key)} already belongs to {customer_id}")
    if previous and not force:
        raise LinkError(f"{mask_key(key)} belongs to customer {previous}: pass --force to move it to {customer_id}")
    now = datetime.now(timezone.utc)
    ident = linked_identity(key, customer_id, tier=customer.tier, lifetime_value=customer.lifetime_value,
                            followers=customer.followers, name=customer.name, updated_at=to_iso(now))
    _send(s, key, encode(ident), producer)
    result = LinkResult("link", key, customer_id, previous, prospect_id(key))
    _audit(c, result, now, by, source)
    return result


def unlink(s: Settings, channel: str, handle: str, *, by: str, source: str = "cli",
           producer: Any = None) -> LinkResult:
    """Detach CHANNEL HANDLE from its customer (a tombstone on `customers.identities`)."""
    key = _key_of(channel, handle)
    c = make_client(s)
    try:
        owner = ch.owner_of(c, key)
        if owner is None or owner[1]:
            raise LinkError(f"{mask_key(key)} belongs to no customer: nothing to unlink")
        _send(s, key, None, producer)
        result = LinkResult("unlink", key, owner[0], "", prospect_id(key))
        _audit(c, result, datetime.now(timezone.utc), by, source)
        return result
    finally:
        c.disconnect()


def link_prospect(s: Settings, prospect: str, customer_id: str, *, by: str, source: str = "dashboard",
                  force: bool = False) -> list[LinkResult]:
    """The dashboard's "link to a customer" on a prospect's page: every identity of the prospect → customer."""
    c = make_client(s)
    try:
        keys = ch.prospect_keys(c, prospect)
        if not keys:
            raise LinkError(f"unknown prospect {prospect!r}")
        return [_link(s, c, key, customer_id, by=by, source=source, force=force) for key in keys]
    finally:
        c.disconnect()


def _audit(c: Any, r: LinkResult, at: datetime, by: str, source: str) -> None:
    try:
        ch.record(c, ch.AuditEntry(at=at, action=r.action, identity_key=r.key, channel=split_identity_key(r.key)[0],
                                   customer_id=r.customer_id, previous_customer_id=r.previous_customer_id,
                                   prospect_id=r.prospect_id, by=by[:80], source=source))
    except Exception as exc:  # noqa: BLE001 - the link itself is done; say so rather than pretend it failed
        raise LinkError(f"the {r.action} stands (the broker has it), but its audit entry could not be written to "
                        f"ClickHouse identity_links ({type(exc).__name__})") from None
