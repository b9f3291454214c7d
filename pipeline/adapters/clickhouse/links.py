"""Manual identity links in ClickHouse (I/O): the customer record a link copies, who owns an identity now, the
prospect identities a page links, and the `identity_links` audit log (schemas/clickhouse/005_identity_links.sql).
Parameterized SQL only."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

CUSTOMER_SQL = """
SELECT name, tier, lifetime_value, followers
FROM customers FINAL
WHERE customer_id = %(id)s
"""
OWNER_SQL = """
SELECT customer_id, is_prospect
FROM identities FINAL
WHERE identity_key = %(key)s
"""
PROSPECT_KEYS_SQL = """
SELECT identity_key
FROM identities FINAL
WHERE customer_id = %(id)s AND is_prospect
ORDER BY identity_key
"""
AUDIT_COLUMNS = ("at", "action", "identity_key", "channel", "customer_id", "previous_customer_id", "prospect_id",
                 "by", "source")
INSERT_AUDIT = f"INSERT INTO identity_links ({', '.join(f'`{c}`' for c in AUDIT_COLUMNS)}) VALUES"
#: The link/unlink entries touching any of %(ids)s (a customer and its prospect ids), newest first; AUDIT_COLUMNS.
HISTORY_SQL = f"""
SELECT {', '.join(f'`{c}`' for c in AUDIT_COLUMNS)}
FROM identity_links FINAL
WHERE customer_id IN %(ids)s OR previous_customer_id IN %(ids)s OR prospect_id IN %(ids)s
ORDER BY at DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class CustomerRecord:
    customer_id: str
    name: str
    tier: str
    lifetime_value: float
    followers: Optional[int]


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    identity_key: str
    channel: str
    customer_id: str
    previous_customer_id: str
    prospect_id: str
    by: str
    source: str


def customer_record(c: Any, customer_id: str) -> Optional[CustomerRecord]:
    rows = c.execute(CUSTOMER_SQL, {"id": customer_id})
    if not rows:
        return None
    name, tier, ltv, followers = rows[0]
    return CustomerRecord(customer_id, name, tier, float(ltv), int(followers) or None)


def owner_of(c: Any, key: str) -> Optional[tuple[str, bool]]:
    """(customer or prospect id, is_prospect) of the identity key as ClickHouse knows it, or None."""
    rows = c.execute(OWNER_SQL, {"key": key})
    return (rows[0][0], bool(rows[0][1])) if rows else None


def prospect_keys(c: Any, prospect_id: str) -> list[str]:
    """The identity keys recorded for a prospect id (normally one: the id is derived from it)."""
    return [r[0] for r in c.execute(PROSPECT_KEYS_SQL, {"id": prospect_id})]


def record(c: Any, entry: AuditEntry) -> None:
    """Append one entry to identity_links (a retried insert of the same entry is stored once)."""
    row = [getattr(entry, name) for name in AUDIT_COLUMNS]
    token = "link-" + hashlib.sha256(repr(row).encode()).hexdigest()  # no personal data in part metadata
    c.execute(INSERT_AUDIT, [row], settings={"insert_deduplication_token": token})
