"""What a generated sample reports about itself (counts, the spike) and the in-memory Sample with its ground truth."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import msgspec

from pipeline.contract.records import Customer


class BrandSummary(msgspec.Struct, kw_only=True):
    mentions: int
    complaints: int


class SpikeSummary(msgspec.Struct, kw_only=True):
    brand: str
    start: str                   # hour window [start, end)
    end: str
    mentions: int                # the brand's mentions in the window
    complaints: int              # of which complaints (generated intent)
    baseline_complaints: float   # mean complaints of the brand in the same hour on the other days
    ratio: float                 # complaints / baseline


class SampleSummary(msgspec.Struct, kw_only=True):
    """Counts of a sample: `mentions` are distinct valid mentions, `lines` = mentions + duplicates + junk."""

    seed: int
    start: str
    days: int
    customers: int
    customers_by_tier: dict[str, int]
    influencer_customers: int
    mentions: int
    lines: int
    junk: int
    duplicates: int
    complaints: int
    intents: dict[str, int]
    per_brand: dict[str, BrandSummary]
    per_channel: dict[str, int]
    known_author_mentions: int
    unknown_author_mentions: int
    non_english: int
    repeat_complainers: int          # customers with ≥ 2 complaints about one brand
    cross_channel_complainers: int   # customers who complained about one brand on ≥ 2 channels
    spike: Optional[SpikeSummary] = None
    files: dict[str, int] = {}       # file name → bytes (filled by write_sample)


@dataclass
class Sample:
    """A generated sample in memory: the file lines plus what each mention was generated as (ground truth)."""

    customers: list[Customer]
    customer_lines: list[bytes]
    mention_lines: list[bytes]
    junk_lines: list[int]                   # indexes into mention_lines
    duplicate_lines: list[int]              # indexes of the repeated deliveries (the second copy)
    intents: dict[str, str]                 # "<channel>:<id>" → one of INTENTS
    authors: dict[str, Optional[str]]       # "<channel>:<id>" → customer_id of a known author, None for unknown
    summary: SampleSummary
