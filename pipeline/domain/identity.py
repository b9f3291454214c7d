"""Identity resolution, the social-CRM core (pure): handle/e-mail normalisation, keys, prospects, influence.

A customer owns identities keyed `<channel>:<handle>` (handle lower-cased, surrounding whitespace and a leading
`@` removed) and `email:<address>` (lower-cased). A handle matches only on the channel it was registered for.
An author no customer owns becomes a *prospect* whose id is derived from its key, so it is stable across
replays and workers, and is linked to the customer when the handle later joins one.
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Callable, Iterable, Mapping, Optional

import msgspec

from pipeline.contract.records import Customer, CustomerContext, Identity, RawMention

EMAIL_CHANNEL = "email"
PROSPECT_PREFIX = "P-"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Followers at which influence from audience alone reaches 1.0 (10^6 = one million).
INFLUENCE_FOLLOWERS_LOG10_MAX = 6.0
#: Weight of engagement (likes + shares + comments + retweets in `metadata`) relative to followers.
INFLUENCE_ENGAGEMENT_WEIGHT = 0.5
_ENGAGEMENT_FIELDS = ("likes", "shares", "retweets", "comments", "replies")


def normalise_handle(handle: str) -> str:
    """`  @BobSmith ` → `bobsmith`: surrounding whitespace and one leading @ removed, case folded."""
    handle = handle.strip()
    if handle.startswith("@"):
        handle = handle[1:].strip()
    return handle.casefold()


def normalise_email(address: str) -> str:
    """E-mail address as matched: whitespace stripped, a `mailto:` prefix removed, lower-cased.

    Provider-specific rewrites (dots or +tags in Gmail) are not applied: they would merge different people."""
    address = address.strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    return address.strip().lower()


def is_email(value: str) -> bool:
    return bool(_EMAIL_RE.match(value.strip()))


def handle_key(channel: str, handle: str) -> str:
    return f"{channel}:{normalise_handle(handle)}"


def email_key(address: str) -> str:
    return f"{EMAIL_CHANNEL}:{normalise_email(address)}"


def author_key(channel: str, author: str) -> str:
    """The identity key of a mention's author: `email:<addr>` when the author is an e-mail address (e-mail,
    support tickets), else `<channel>:<handle>`. Producers key `mentions.raw` with it."""
    return email_key(author) if is_email(author) else handle_key(channel, author)


def candidate_keys(m: RawMention) -> list[str]:
    """Keys to look up for a mention, most specific first: the author's key, then `author_email` if given."""
    keys = [author_key(m.channel, m.author)]
    if m.author_email and is_email(m.author_email):
        k = email_key(m.author_email)
        if k not in keys:
            keys.append(k)
    return keys


def prospect_id(key: str) -> str:
    """Stable id of an unknown author: `P-` + 16 hex chars of BLAKE2b of its identity key."""
    return PROSPECT_PREFIX + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def is_prospect_id(customer_id: str) -> bool:
    return customer_id.startswith(PROSPECT_PREFIX)


def engagement_of(metadata: Optional[Mapping[str, object]]) -> int:
    """Sum of the numeric engagement counters found in a mention's metadata (likes, shares, …)."""
    if not metadata:
        return 0
    total = 0
    for name in _ENGAGEMENT_FIELDS:
        v = metadata.get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            total += int(min(v, 10**12))
    return total


def influence(followers: Optional[int], engagement: int = 0) -> float:
    """Influence in [0,1]: (log10(1+followers) + 0.5·log10(1+engagement)) / 6, capped at 1.

    1M followers alone → 1.0; 10k → 0.67; 100 → 0.33; a post with 1,000 likes/shares adds 0.25."""
    f = max(0, followers or 0)
    raw = math.log10(1 + f) + INFLUENCE_ENGAGEMENT_WEIGHT * math.log10(1 + max(0, engagement))
    return round(min(1.0, raw / INFLUENCE_FOLLOWERS_LOG10_MAX), 4)


class Resolution(msgspec.Struct, frozen=True):
    """Who wrote a mention: a customer, or a prospect with a derived id."""

    customer_id: str
    is_prospect: bool
    matched_key: Optional[str]
    author_key: str
    context: CustomerContext


def resolve_author(m: RawMention, lookup: Callable[[str], Optional[Identity]]) -> Resolution:
    """Attach a mention to a known customer via `lookup(identity_key)`, else make its author a prospect."""
    keys = candidate_keys(m)
    engagement = engagement_of(m.metadata)
    for key in keys:
        ident = lookup(key)
        if ident is not None:
            followers = max(ident.followers or 0, m.author_followers or 0)
            ctx = CustomerContext(tier=ident.tier, lifetime_value=ident.lifetime_value,
                                  influence=influence(followers, engagement))
            return Resolution(ident.customer_id, False, key, keys[0], ctx)
    ctx = CustomerContext(tier="prospect", lifetime_value=0.0, influence=influence(m.author_followers, engagement))
    return Resolution(prospect_id(keys[0]), True, None, keys[0], ctx)


def identities_of(c: Customer, updated_at: str) -> list[tuple[str, Identity]]:
    """The `customers.identities` messages (key, value) for one CRM record: one per handle and per e-mail."""
    base = dict(customer_id=c.customer_id, tier=c.tier.strip().lower() or "standard",
                lifetime_value=float(c.lifetime_value), followers=c.followers, name=c.name, updated_at=updated_at)
    keys: list[str] = []
    for ref in c.identities:
        if normalise_handle(ref.handle):
            keys.append(handle_key(ref.channel, ref.handle))
    for addr in c.emails:
        if is_email(addr):
            keys.append(email_key(addr))
    seen: dict[str, Identity] = {}
    for key in keys:
        seen.setdefault(key, Identity(key=key, **base))
    return list(seen.items())


_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def identity_key_of(channel: str, handle: str) -> str:
    """The identity key an operator means by CHANNEL HANDLE (`twitter @Bob` → `twitter:bob`, `email Bob@x.io` →
    `email:bob@x.io`); ValueError with what to fix when either part is unusable."""
    channel = channel.strip().lower()
    if not _CHANNEL_RE.match(channel):
        raise ValueError(f"channel {channel!r} is not a lowercase word such as twitter, facebook or email")
    if channel == EMAIL_CHANNEL:
        if not is_email(handle):
            raise ValueError("an email identity needs an e-mail address as its handle")
        return email_key(handle)
    if not normalise_handle(handle):
        raise ValueError("the handle is empty")
    return handle_key(channel, handle)


def split_identity_key(key: str) -> tuple[str, str]:
    """'twitter:bob' → ('twitter', 'bob'); 'email:a@b.c' → ('email', 'a@b.c'); no ':' → ('', key)."""
    channel, sep, handle = key.partition(":")
    return (channel, handle) if sep else ("", key)


def mask_email(address: str) -> str:
    """`alice@example.com` → `a***@example.com`: enough for an operator to recognise, not to copy."""
    local, at, domain = address.partition("@")
    if not at:
        return address
    return f"{local[:1]}***@{domain}"


def mask_key(key: str) -> str:
    """An identity key as shown on pages and in command output: e-mail addresses masked."""
    channel, handle = split_identity_key(key)
    return f"{channel}:{mask_email(handle)}" if is_email(handle) else key


def linked_identity(key: str, customer_id: str, *, tier: str, lifetime_value: float, followers: Optional[int],
                    name: str, updated_at: str) -> Identity:
    """The `customers.identities` value of a manual link: the identity now belongs to `customer_id`, with the
    customer's current attributes (what a CRM load of that customer would have sent for the handle)."""
    return Identity(key=key, customer_id=customer_id, tier=tier.strip().lower() or "standard",
                    lifetime_value=float(lifetime_value), followers=followers, name=name, updated_at=updated_at)


def keys_of_customer(identities: Iterable[tuple[str, Identity]], customer_id: str) -> list[str]:
    """Identity keys currently linked to `customer_id` (for erase)."""
    return [k for k, ident in identities if ident.customer_id == customer_id]
