"""Seeded synthetic sample data: a fictional CRM and a few days of mentions of four fictional brands.

Used by `socialpulse demo`, the benchmark and the tests. Everything comes from one `random.Random(seed)`, so the same
seed gives byte-identical files (`scripts/make_sample.py` regenerates the shipped copy in `pipeline/data/sample/`).

What is in it (defaults: seed 7, 3,000 customers, 30,000 mentions over 5 days from 2026-11-16 UTC):

* customers — tiers standard/gold/platinum (~80/15/5 %), log-normal lifetime values per tier, 1–2 e-mail addresses
  on reserved domains only (example.com, example.org, mail.test), handles on 2–4 of twitter/facebook/instagram/reviews
  (some in mixed case or with a leading `@`), follower counts for most, a few influencers (50k–2M followers);
* mentions — brands Aerolux (airline), NimbusMobile (telecom), Quickcart (e-commerce), Brewly (coffee) on twitter,
  facebook, instagram, reviews, email and support; ~60 % by known customers (handles and e-mails sometimes in another
  case, with/without `@`), ~40 % by unknown authors (prospects, a few of them influencers); praise, questions, neutral
  posts, complaints (direct, polite, sarcastic; ~30 %), negative posts that are not complaints (weather, news);
  repeat complainers and cross-channel complainers (tweet first, then e-mail/support), a complaint spike (a
  NimbusMobile outage: ~10× the brand's normal complaint volume within one hour on day 4), ~2 % Spanish/French/German,
  ~0.5 % exact duplicate deliveries and ~1 % junk lines (not JSON, invalid UTF-8, missing fields, wrong types) for the
  dead-letter path.

`mentions` counts the distinct valid mentions; the mentions file holds those plus the duplicates and the junk lines.
The intent each mention was generated from (its "ground truth") is available in memory from `build_sample`.

This module is the package's public face; it assembles the sample and writes the files. The parts live next to it:
`config` (settings), `brands` and `vocabulary` (the words), `people` (the CRM), `authors`, `compose` (the texts),
`events` (the MentionFactory), `mentions` (the stream with duplicates and junk) and `summary` (the report types).
"""
from __future__ import annotations

from pipeline.data import sample_dir  # noqa: F401 - where the generated files are shipped

import gzip
import io
import json
from datetime import datetime
from pathlib import Path
from random import Random
from typing import Any, Iterator

import msgspec

from pipeline.contract.records import Customer
from pipeline.tools.sample.brands import BRANDS, SPIKE_BRAND, Brand, Issue  # noqa: F401 - public names
from pipeline.tools.sample.config import (  # noqa: F401 - public names
    CHANNEL_SHARE, CHANNELS, CUSTOMERS_FILE, DEFAULT_CUSTOMERS, DEFAULT_DAYS, DEFAULT_MENTIONS, DEFAULT_SEED,
    DEFAULT_START, DUPLICATE_SHARE, EMAIL_DOMAINS, HOUR_WEIGHTS, ID_PREFIX, INTENTS, JUNK_SHARE, KNOWN_AUTHOR_SHARE,
    MAIL_CHANNELS, MENTIONS_FILE, NON_ENGLISH_SHARE, PRIOR_ACTION, SOCIAL_CHANNELS, SPIKE_FACTOR,
)
from pipeline.tools.sample.helpers import iso
from pipeline.tools.sample.mentions import MentionSet, build_mentions, generate_mentions, raw_junk  # noqa: F401
from pipeline.tools.sample.people import customer_dict, generate_customers
from pipeline.tools.sample.summary import BrandSummary, Sample, SampleSummary, SpikeSummary  # noqa: F401

__all__ = [
    "BRANDS", "CUSTOMERS_FILE", "MENTIONS_FILE", "DEFAULT_SEED", "DEFAULT_START", "Sample", "SampleSummary",
    "BrandSummary", "SpikeSummary", "build_sample", "generate_customers", "generate_mentions", "write_sample",
    "sample_dir", "iter_lines",
]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _gzip(lines: list[bytes]) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for line in lines:
            gz.write(line)
            gz.write(b"\n")
    return buf.getvalue()


def build_sample(*, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS, mentions: int = DEFAULT_MENTIONS,
                 days: int = DEFAULT_DAYS, start: datetime = DEFAULT_START) -> Sample:
    """The whole sample in memory (what `write_sample` writes), with the generated intent of every mention."""
    rng = Random(seed)
    crm = generate_customers(rng, customers)
    ms = build_mentions(rng, crm, mentions, start, days)
    lines = [_dumps(r) for r in ms.records]
    junk = set(ms.junk_idx)
    dups = list(ms.dup_idx)
    # lines that are not a JSON object at all, at random places
    n_raw = max(1, round(mentions * JUNK_SHARE * 0.4)) if mentions else 0
    for _ in range(n_raw):
        pos = rng.randint(0, len(lines))
        neighbour = lines[min(pos, len(lines) - 1)] if lines else b"{}"
        lines.insert(pos, raw_junk(rng, neighbour))
        junk = {j + 1 if j >= pos else j for j in junk} | {pos}
        dups = [d + 1 if d >= pos else d for d in dups]
    summary = _summarise(seed, start, days, crm, ms, len(lines), len(junk))
    return Sample(customers=crm, customer_lines=[_dumps(customer_dict(c)) for c in crm], mention_lines=lines,
                  junk_lines=sorted(junk), duplicate_lines=dups, intents=ms.intents, authors=ms.authors,
                  summary=summary)


def _summarise(seed: int, start: datetime, days: int, crm: list[Customer], ms: MentionSet, n_lines: int,
               n_junk: int) -> SampleSummary:
    tiers = {t: 0 for t in ("standard", "gold", "platinum")}
    for c in crm:
        tiers[c.tier] = tiers.get(c.tier, 0) + 1
    per_brand = {b.name: BrandSummary(mentions=0, complaints=0) for b in BRANDS}
    per_channel = {ch: 0 for ch in CHANNELS}
    intents = {i: 0 for i in INTENTS}
    complained: dict[tuple[str, str], list[str]] = {}
    seen: dict[str, None] = {}
    for rec in ms.records:
        key = f"{rec.get('channel')}:{rec.get('id')}"
        if key not in ms.intents or key in seen:
            continue
        seen[key] = None
        intent = ms.intents[key]
        intents[intent] += 1
        per_channel[rec["channel"]] += 1
        b = per_brand[rec["brand"]]
        b.mentions += 1
        if intent == "complaint":
            b.complaints += 1
            cid = ms.authors[key]
            if cid is not None:
                complained.setdefault((cid, rec["brand"]), []).append(rec["channel"])
    known = sum(1 for v in ms.authors.values() if v is not None)
    repeaters = {cid for (cid, _), chans in complained.items() if len(chans) >= 2}
    cross = {cid for (cid, _), chans in complained.items() if len(set(chans)) >= 2}
    return SampleSummary(
        seed=seed, start=iso(start), days=days, customers=len(crm), customers_by_tier=tiers,
        influencer_customers=sum(1 for c in crm if (c.followers or 0) >= 50_000), mentions=len(ms.intents),
        lines=n_lines, junk=n_junk, duplicates=len(ms.dup_idx), complaints=intents["complaint"], intents=intents,
        per_brand=per_brand, per_channel=per_channel, known_author_mentions=known,
        unknown_author_mentions=len(ms.authors) - known, non_english=ms.non_english,
        repeat_complainers=len(repeaters), cross_channel_complainers=len(cross), spike=ms.spike)


def write_sample(out_dir: Path, *, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS,
                 mentions: int = DEFAULT_MENTIONS, days: int = DEFAULT_DAYS, start: datetime = DEFAULT_START
                 ) -> SampleSummary:
    """Generate and write `customers.jsonl.gz` and `mentions.jsonl.gz` into `out_dir` (created if missing).

    One JSON object per line with sorted keys, gzip with mtime 0: the same arguments give byte-identical files."""
    sample = build_sample(seed=seed, customers=customers, mentions=mentions, days=days, start=start)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, lines in ((CUSTOMERS_FILE, sample.customer_lines), (MENTIONS_FILE, sample.mention_lines)):
        data = _gzip(lines)
        tmp = out_dir / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out_dir / name)
        files[name] = len(data)
    return msgspec.structs.replace(sample.summary, files=files)


def iter_lines(path: Path) -> Iterator[bytes]:
    """Raw lines (bytes, without the newline) of a `.jsonl` or `.jsonl.gz` file; junk lines are passed on as is."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            yield line.rstrip(b"\r\n")
