"""The mention stream: cases, background and spike in time order with ids and threads, plus duplicates and junk."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any, Callable, Optional

from pipeline.contract.records import Customer
from pipeline.tools.sample.brands import BRAND_BY_NAME, SPIKE_BRAND, Brand
from pipeline.tools.sample.config import CHANNELS, DUPLICATE_SHARE, ID_PREFIX, JUNK_SHARE, SPIKE_FACTOR
from pipeline.tools.sample.events import Event, MentionFactory
from pipeline.tools.sample.helpers import iso
from pipeline.tools.sample.summary import SpikeSummary


@dataclass
class MentionSet:
    """The mention records in file order (junk and duplicates included) with the ground truth per valid mention."""

    records: list[dict[str, Any]]
    junk_idx: list[int]
    dup_idx: list[int]
    intents: dict[str, str]
    authors: dict[str, Optional[str]]
    non_english: int
    spike: Optional[SpikeSummary]


_JUNK_BREAKERS: tuple[tuple[str, Callable[[dict, Random], None]], ...] = (
    ("missing id", lambda d, r: d.pop("id")),
    ("missing channel", lambda d, r: d.pop("channel")),
    ("missing author", lambda d, r: d.pop("author")),
    ("missing text", lambda d, r: d.pop("text")),
    ("channel upper case", lambda d, r: d.__setitem__("channel", r.choice(("Twitter", "FACEBOOK", "Instagram")))),
    ("channel with space", lambda d, r: d.__setitem__("channel", r.choice(("face book", "customer support",
     " twitter")))),
    ("followers as string", lambda d, r: d.__setitem__("author_followers", r.choice(("12k", "1,204", "350")))),
    ("negative followers", lambda d, r: d.__setitem__("author_followers", -r.randint(1, 500))),
    ("text null", lambda d, r: d.__setitem__("text", None)),
    ("text number", lambda d, r: d.__setitem__("text", r.randint(1, 10**6))),
    ("id number", lambda d, r: d.__setitem__("id", r.randint(1, 10**6))),
    ("id empty", lambda d, r: d.__setitem__("id", "")),
    ("author empty", lambda d, r: d.__setitem__("author", "")),
    ("created_at epoch", lambda d, r: d.__setitem__("created_at", r.randint(1_763_000_000, 1_764_000_000))),
    ("metadata list", lambda d, r: d.__setitem__("metadata", ["likes", r.randint(1, 99)])),
    ("lang too long", lambda d, r: d.__setitem__("lang", "english (united kingdom)")),
)


def build_mentions(rng: Random, customers: list[Customer], n: int, start: datetime, days: int) -> MentionSet:
    f = MentionFactory(rng, customers, n, start, days)
    events: list[Event] = []
    # repeat and cross-channel complainers (a few VIPs and influencers among them, on purpose)
    n_cases = min(round(len(customers) * 0.05), round(n * 0.012))
    if customers and n >= 20:
        n_cases = max(n_cases, 3)
    chosen: dict[str, None] = {}
    platinum = [c for c in customers if c.tier == "platinum"]
    influencers = [c for c in customers if (c.followers or 0) >= 50_000]
    forced = rng.sample(platinum, min(3, len(platinum))) + rng.sample(influencers, min(2, len(influencers)))
    kinds = ("repeat", "cross", "mixed")
    case_customers = []
    for c in forced + [c for c in rng.sample(customers, min(len(customers), n_cases * 2))]:
        if len(case_customers) >= n_cases:
            break
        if c.customer_id not in chosen:
            chosen[c.customer_id] = None
            case_customers.append(c)
    for k, c in enumerate(case_customers):
        kind = kinds[k % 3] if k < 3 else rng.choices(kinds, weights=(45, 35, 20))[0]
        events.extend(f.case_events(c, kind))
    # the complaint spike: SPIKE_FACTOR × the brand's usual complaints in that hour, on day 4 (or the last day)
    spike_brand = BRAND_BY_NAME[SPIKE_BRAND]
    spike_day = min(3, f.days - 1)
    spike_slot = spike_day * 24 + 14
    hour_start = f.start + timedelta(hours=spike_slot)
    n_spike = 0
    if n >= 200:
        # first an estimate (per base mention: complaints expected in the spike slot and, on average, in the same
        # hour of the other days), then the exact count from the generated background
        here = f.expected_complaints_in_slot(spike_brand, 1, spike_slot)
        others = [f.expected_complaints_in_slot(spike_brand, 1, d * 24 + 14) for d in range(f.days) if d != spike_day]
        usual = sum(others) / len(others) if others else here
        k = SPIKE_FACTOR * usual - here
        n_spike = max(10, round(k * (n - len(events)) / (1 + k)))
    while len(events) < n - n_spike:
        events.append(f.base_event())
    if n_spike:
        counts = [0] * f.days
        for ev in events:
            if ev.brand is spike_brand and ev.intent == "complaint" and ev.ts.hour == 14:
                counts[(ev.ts - f.start).days] += 1
        others_n = [c for d, c in enumerate(counts) if d != spike_day]
        usual_n = sum(others_n) / len(others_n) if others_n else counts[spike_day]
        n_spike = max(10, round(SPIKE_FACTOR * usual_n - counts[spike_day]))
        events.extend(f.spike_events(spike_brand, hour_start, n_spike))
    while len(events) < n:
        events.append(f.base_event())
    if len(events) > n:  # too many: drop background mentions, keep the cases (first) and the spike (last)
        spike_part = events[len(events) - n_spike:] if n_spike else []
        events = events[: max(0, n - len(spike_part))] + spike_part
        events = events[:n]
    # junk records travel with the stream (they get ids like everybody else), then are broken
    n_junk = max(1, round(n * JUNK_SHARE * 0.6)) if n else 0
    junk_events = [f.base_event() for _ in range(n_junk)]
    for ev in junk_events:
        ev.junk = "junk"
    all_events = sorted(events + junk_events, key=lambda e: (e.ts, e.seq))
    counters = {ch: 0 for ch in CHANNELS}
    recent: dict[tuple[str, str], list[str]] = {}
    for ev in all_events:
        counters[ev.channel] += 1
        ev.id = f"{ID_PREFIX[ev.channel]}-{counters[ev.channel]:06d}"
        rec = ev.record
        rec["id"] = ev.id
        if ev.reply_to is not None and ev.reply_to.id:
            rec["in_reply_to"] = ev.reply_to.id
        elif ev.channel in ("twitter", "facebook", "instagram") and rng.random() < 0.04:
            thread = recent.get((ev.channel, ev.brand.name))
            if thread:
                rec["in_reply_to"] = rng.choice(thread)
        if ev.junk is None and ev.channel in ("twitter", "facebook", "instagram"):
            thread = recent.setdefault((ev.channel, ev.brand.name), [])
            thread.append(ev.id)
            if len(thread) > 50:
                del thread[0]
    # break the junk records
    oversize_done = n < 5000
    for ev in junk_events:
        if not oversize_done:
            ev.record["text"] = "spam " * 21_000  # 105,000 chars: over MAX_TEXT_LEN
            ev.junk, oversize_done = "text too long", True
            continue
        ev.junk, breaker = rng.choice(_JUNK_BREAKERS)
        breaker(ev.record, rng)
    # duplicate deliveries of valid mentions: the same record again, right behind the first
    n_dup = max(1, round(n * DUPLICATE_SHARE)) if n else 0
    valid_positions = [i for i, ev in enumerate(all_events) if ev.junk is None]
    dup_of = set(rng.sample(valid_positions, min(n_dup, len(valid_positions))))
    records: list[dict[str, Any]] = []
    junk_idx: list[int] = []
    dup_idx: list[int] = []
    intents: dict[str, str] = {}
    authors: dict[str, Optional[str]] = {}
    non_english = 0
    for i, ev in enumerate(all_events):
        if ev.junk is not None:
            junk_idx.append(len(records))
            records.append(ev.record)
            continue
        key = f"{ev.channel}:{ev.id}"
        intents[key] = ev.intent
        authors[key] = ev.customer.customer_id if ev.customer is not None else None
        non_english += ev.record.get("lang", "en") != "en"
        records.append(ev.record)
        if i in dup_of:
            dup_idx.append(len(records))
            records.append(json.loads(json.dumps(ev.record)))
    spike = None
    if n_spike:
        spike = _spike_summary(all_events, spike_brand, hour_start, f.start, f.days, spike_day)
    return MentionSet(records, junk_idx, dup_idx, intents, authors, non_english, spike)


def _spike_summary(events: list[Event], brand: Brand, hour_start: datetime, start: datetime, days: int,
                   spike_day: int) -> SpikeSummary:
    hour_end = hour_start + timedelta(hours=1)
    mentions = complaints = 0
    other = [0] * days
    for ev in events:
        if ev.junk is not None or ev.brand is not brand:
            continue
        if hour_start <= ev.ts < hour_end:
            mentions += 1
            complaints += ev.intent == "complaint"
        elif ev.ts.hour == hour_start.hour and ev.intent == "complaint":
            other[(ev.ts - start).days] += 1
    others = [c for d, c in enumerate(other) if d != spike_day]
    baseline = sum(others) / len(others) if others else 0.0
    return SpikeSummary(brand=brand.name, start=iso(hour_start), end=iso(hour_end), mentions=mentions,
                        complaints=complaints, baseline_complaints=round(baseline, 2),
                        ratio=round(complaints / baseline, 1) if baseline else 0.0)


def generate_mentions(rng: Random, customers: list[Customer], n: int, start: datetime, days: int
                      ) -> list[dict[str, Any]]:
    """`n` distinct valid mentions over `days` days from `start`, plus ~0.5 % duplicate deliveries and ~0.6 % broken
    records (missing fields, wrong types), sorted by `created_at`. Lines that are not JSON at all are added by
    `write_sample`, since a dict cannot hold them."""
    return build_mentions(rng, customers, n, start, days).records


def raw_junk(rng: Random, neighbour: bytes) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return neighbour[: max(10, len(neighbour) // 2)]  # truncated write
    if kind == 1:
        return rng.choice((b"PING", b"hello world", b"ERROR 502 Bad Gateway", b"-- end of batch --"))
    if kind == 2:
        return b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    if kind == 3:
        return b"tw-999999,twitter,@someone,\"great flight\",2026-11-17T10:00:00Z"
    if kind == 4:
        return rng.choice((b"[1, 2, 3]", b"null", b"\"just a string\"", b"42", b"{}"))
    if kind == 5:
        return b"{'id': 'tw-1', 'channel': 'twitter', 'author': 'x', 'text': 'python repr, not JSON'}"
    if kind == 6:
        return (b'{"id":"tw-x%d","channel":"twitter","author":"nan_fan","text":"followers unknown",'
                b'"author_followers":NaN}' % rng.randint(1, 9999))
    if kind == 7:  # Latin-1 bytes where UTF-8 is required
        return (b'{"id":"fb-latin1-%d","channel":"facebook","author":"caf\xe9_lover",'
                b'"text":"Caf\xe9 cr\xe8me br\xfbl\xe9e"}' % rng.randint(1, 9999))
    if kind == 8:
        return b'{"id": "ig-trailing", "channel": "instagram", "author": "x", "text": "trailing comma",}'
    return b"\x00\x01\x02binary\xff\xfe"
