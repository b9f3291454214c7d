"""`socialpulse customers load|erase`: the CRM side of the identity table (I/O)."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from pipeline.adapters.files import count_rows, iter_rows
from pipeline.adapters.kafka.config import bulk_producer, kafka_python_config
from pipeline.codec import decode, decoder, encode
from pipeline.contract.records import Customer, Identity
from pipeline.contract.topics import IDENTITIES
from pipeline.domain.identity import identities_of
from pipeline.domain.mention import to_iso
from pipeline.ops.progress import progress_bar
from pipeline.ops.reporting import FileSummary
from pipeline.settings import Settings


def customer_from_csv(row: dict) -> Customer:
    """CSV columns: customer_id, name, emails (`;`-separated), tier, lifetime_value, identities
    (`channel:handle;…`), followers."""
    idents = []
    for item in (row.get("identities") or "").split(";"):
        if item.strip():
            channel, sep, handle = item.strip().partition(":")
            if not sep:
                raise ValueError(f"identity {item.strip()!r} is not channel:handle")
            idents.append({"channel": channel.strip(), "handle": handle})
    doc = {"customer_id": (row.get("customer_id") or "").strip(), "name": row.get("name") or "",
           "emails": [e.strip() for e in (row.get("emails") or "").split(";") if e.strip()],
           "tier": (row.get("tier") or "standard").strip(), "identities": idents}
    if (row.get("lifetime_value") or "").strip():
        doc["lifetime_value"] = float(row["lifetime_value"])
    if (row.get("followers") or "").strip():
        doc["followers"] = int(row["followers"])
    return msgspec.convert(doc, Customer)


def load_customers(s: Settings, path: Path, *, progress: bool = True, producer=None) -> FileSummary:
    """Publish one `customers.identities` message per handle/e-mail of every valid customer in `path`."""
    summary = FileSummary(f"customers {path.name}", extra={"customers": 0})
    with bulk_producer(s, producer) as producer:
        started = time.monotonic()
        stamp = to_iso(datetime.now(timezone.utc))
        with progress_bar(f"customers {path.name}", count_rows(path) if progress else None, progress) as bar:
            for line_no, row in iter_rows(path):
                bar.advance()
                try:
                    c = customer_from_csv(row) if isinstance(row, dict) else decode(row, Customer)
                except (msgspec.MsgspecError, ValueError) as exc:
                    summary.report_bad(line_no, str(exc))
                    continue
                items = identities_of(c, stamp)
                if not items:
                    summary.report_bad(line_no, f"customer {c.customer_id!r} has no valid handle or e-mail")
                    continue
                for key, ident in items:
                    producer.send(IDENTITIES, key=key.encode(), value=encode(ident))
                    summary.sent += 1
                summary.extra["customers"] += 1
    summary.seconds = time.monotonic() - started
    return summary


@dataclass
class EraseSummary:
    customer_id: str
    tombstones: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        rows = ", ".join(f"{t}={n}" for t, n in self.rows.items()) or "none"
        return (f"erased {self.customer_id}: {self.tombstones} identity tombstone(s) sent; "
                f"ClickHouse rows deleted: {rows}")


def current_identities(s: Settings, timeout_s: float = 30.0) -> dict[str, Identity]:
    """Read the compacted `customers.identities` topic to its end: key → latest identity (tombstones applied)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka_python_config(s), group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(IDENTITIES, p) for p in consumer.partitions_for_topic(IDENTITIES) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out: dict[str, Identity] = {}
        dec = decoder(Identity)
        deadline = time.monotonic() + timeout_s
        # Done when every partition delivered its last offset (the active segment is never compacted away).
        pending = {tp: end for tp, end in ends.items() if end > 0}
        while pending and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500, max_records=10000).items():
                for r in records:
                    if r.key is None:
                        continue
                    k = r.key.decode("utf-8", "replace")
                    if r.value is None:
                        out.pop(k, None)
                    else:
                        out[k] = dec.decode(r.value)
                if records and tp in pending and records[-1].offset + 1 >= pending[tp]:
                    del pending[tp]
        if pending:
            raise TimeoutError(f"could not read {IDENTITIES} to its end within {timeout_s:.0f}s")
        return out
    finally:
        consumer.close()


def erase_customer(s: Settings, customer_id: str) -> EraseSummary:
    """Tombstone every identity of the customer (the worker forgets them for the next mention) and delete the
    customer's rows from ClickHouse (mentions, alerts, identities, customer record, prospect links)."""
    from kafka import KafkaProducer

    from pipeline.adapters.clickhouse.writer import erase_customer as erase_rows

    summary = EraseSummary(customer_id)
    keys = [k for k, ident in current_identities(s).items() if ident.customer_id == customer_id]
    producer = KafkaProducer(**kafka_python_config(s), acks="all")
    try:
        for key in keys:
            producer.send(IDENTITIES, key=key.encode(), value=None)
        producer.flush()
    finally:
        producer.close()
    summary.tombstones = len(keys)
    summary.rows = erase_rows(s, customer_id)
    return summary
