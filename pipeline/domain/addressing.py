"""Whether a mention is spoken *to* a brand, without a perfect brands.yml (pure).

The complaint model's strongest signal is "addressed to a brand". A mention is addressed when
  1. it comes on a channel addressed by construction (e-mail, support, reviews: `ADDRESSED_CHANNELS`), or
  2. its text names a configured handle of any brand or a customer-care handle (`Brands.addressed`), or
  3. its text names a handle that **resembles the mention's own brand** (`handle_resembles`: `@AmericanAir` for a
     mention that arrives with `brand: "American"`, `@SouthwestAir` for "Southwest", `@nimbus` for "NimbusMobile"), or
  4. its text names a handle that **many mentions of that brand address** (`HandleLearner`: learned from the stream,
     at least `min_mentions` mentions by `min_authors` distinct authors and `min_share` of the brand's mentions that
     name any handle; kept in a bounded heavy-hitters table per brand).
Any other @handle is a person: people replying to people stay quiet.

`Addressing` bundles the four rules for the first stage (`pipeline.domain.enrich.MentionProcessor`), the evaluation
tools and `socialpulse brands suggest`. See docs/brands.md ("Without a complete brands.yml").
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Optional

from pipeline.domain.brands import CARE_HANDLE_RE, HANDLE_RE, HANDLE_SCAN_CAP, NO_BRANDS, Brands

#: Channels whose messages are addressed to the brand by construction (no @handle needed to say so).
ADDRESSED_CHANNELS: Final = frozenset({"email", "support", "reviews"})

#: Words of brand names too generic to identify a brand on their own (`@BritishAirways` is not "US Airways").
GENERIC_BRAND_WORDS: Final = frozenset({
    "air", "airline", "airlines", "airways", "aviation", "bank", "co", "company", "corp", "corporation", "group",
    "inc", "llc", "ltd", "mobile", "official", "online", "service", "services", "shop", "store", "stores", "the",
    "and", "app", "team", "support", "help", "care", "global", "international", "usa", "us", "uk",
})
#: A brand word shorter than this is not matched inside a handle on its own (too many accidental hits).
MIN_WORD: Final = 4

_NON_ALNUM_RE: Final = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    """Lowercase letters and digits only: "US Airways" → "usairways", "@Virgin_America" → "virginamerica"."""
    return _NON_ALNUM_RE.sub("", text.lower())


def brand_words(brand: str) -> tuple[str, ...]:
    """The distinctive words of a brand name, folded: "American Airlines" → ("american",), "Virgin America" →
    ("virgin", "america", "virginamerica"), "NimbusMobile" → ("nimbusmobile", "nimbus")."""
    whole = _fold(brand)
    words: list[str] = [whole] if len(whole) >= 3 else []
    # camel case and separators split words ("NimbusMobile" → nimbus, mobile)
    for part in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", brand):
        folded = _fold(part)
        if len(folded) >= MIN_WORD and folded not in GENERIC_BRAND_WORDS and folded not in words:
            words.append(folded)
    return tuple(words)


def handle_resembles(handle: str, brand: str) -> bool:
    """True when `handle` (with or without @) looks like an account of `brand`: the folded brand name is in the
    handle (`@AmericanAir` for "American", `@USAirways` for "US Airways"), a distinctive word of the name is
    (`@united` for "United Airlines"), or the handle is a prefix of the folded name of at least MIN_WORD characters
    (`@nimbus` for "NimbusMobile")."""
    h = _fold(handle)
    if len(h) < 2 or not brand:
        return False
    words = brand_words(brand)
    if not words:
        return False
    whole = words[0] if len(_fold(brand)) >= 3 else ""
    if whole and whole in h:
        return True
    if any(h.startswith(w) for w in words[1:]):
        return True
    return len(h) >= MIN_WORD and bool(whole) and whole.startswith(h)


@dataclass
class _HandleCount:
    mentions: int = 0
    authors: set[str] = field(default_factory=set)


class HandleLearner:
    """Handles that many mentions of a brand address, learned from the stream: per brand a bounded heavy-hitters
    table (Misra–Gries: `capacity` counters; a handle addressed in more than 1/capacity of the brand's handle-naming
    mentions is never evicted) of handle → mentions naming it and up to `min_authors` distinct authors. A handle is
    learned for the brand when it has at least `min_mentions` mentions, `min_authors` authors and `min_share` of the
    brand's mentions that name any handle. Memory: at most `capacity` handles per brand."""

    def __init__(self, *, min_mentions: int = 10, min_authors: int = 3, min_share: float = 0.02,
                 capacity: int = 500) -> None:
        if min_mentions < 1 or min_authors < 1 or not 0.0 <= min_share <= 1.0 or capacity < 1:
            raise ValueError("HandleLearner: min_mentions, min_authors and capacity must be ≥ 1, min_share in [0, 1]")
        self.min_mentions, self.min_authors, self.min_share, self.capacity = (
            min_mentions, min_authors, min_share, capacity)
        self._counts: dict[str, dict[str, _HandleCount]] = {}
        self._totals: dict[str, int] = {}  # brand → mentions that named at least one handle
        self._learned: dict[str, frozenset[str]] = {}

    def observe(self, brand: str, handles: Iterable[str], author: str = "") -> None:
        """One mention of `brand` naming `handles` (with or without @, any case) written by `author`."""
        distinct = {h.lstrip("@").lower() for h in handles if h}
        if not brand or not distinct:
            return
        table = self._counts.setdefault(brand, {})
        self._totals[brand] = self._totals.get(brand, 0) + 1
        for handle in sorted(distinct):
            entry = table.get(handle)
            if entry is None:
                if len(table) >= self.capacity:
                    self._decrement(table)
                    if len(table) >= self.capacity:
                        continue  # Misra–Gries: no counter freed, the new handle's one mention is absorbed
                entry = table[handle] = _HandleCount()
            entry.mentions += 1
            if author and len(entry.authors) < self.min_authors:
                entry.authors.add(author)
        self._learned.pop(brand, None)

    @staticmethod
    def _decrement(table: dict[str, _HandleCount]) -> None:
        """Misra–Gries: every counter loses one; the ones at zero leave (room for the new handle)."""
        for handle in list(table):
            entry = table[handle]
            entry.mentions -= 1
            if entry.mentions <= 0:
                del table[handle]

    def learned(self, brand: str) -> frozenset[str]:
        """The handles (lowercase, no @) learned for `brand`."""
        cached = self._learned.get(brand)
        if cached is None:
            total = self._totals.get(brand, 0)
            cached = frozenset(h for h, c in self._counts.get(brand, {}).items()
                               if c.mentions >= self.min_mentions and len(c.authors) >= self.min_authors
                               and c.mentions >= self.min_share * total)
            self._learned[brand] = cached
        return cached

    def top(self, brand: str, n: int = 10) -> list[tuple[str, int]]:
        """The `n` most addressed handles of `brand` with their (approximate, lower-bound) mention counts."""
        table = self._counts.get(brand, {})
        return sorted(((h, c.mentions) for h, c in table.items()), key=lambda kv: (-kv[1], kv[0]))[:n]

    @property
    def brands(self) -> tuple[str, ...]:
        """The brands observed, sorted."""
        return tuple(sorted(self._counts))

    def seed(self, rows: Iterable[tuple[str, str, int, int]]) -> None:
        """Warm the learner with (brand, handle, mentions, distinct authors) rows, e.g. counted from ClickHouse over
        the last days (`socialpulse brands suggest`, the worker's start): the counts are added as observed."""
        for brand, handle, mentions, authors in rows:
            handle = handle.lstrip("@").lower()
            if not brand or not handle or mentions <= 0:
                continue
            table = self._counts.setdefault(brand, {})
            if handle not in table and len(table) >= self.capacity:
                self._decrement(table)
                if len(table) >= self.capacity:
                    continue  # no counter freed: this row's counts are absorbed (Misra–Gries)
            entry = table.setdefault(handle, _HandleCount())
            entry.mentions += int(mentions)
            entry.authors.update(f"seed:{i}" for i in range(min(int(authors), self.min_authors)))
            self._totals[brand] = self._totals.get(brand, 0) + int(mentions)
            self._learned.pop(brand, None)


class Addressing:
    """The four rules of the module doc. `learner=None` disables the learned rule (deterministic scoring)."""

    __slots__ = ("brands", "learner", "resemble")

    def __init__(self, brands: Brands = NO_BRANDS, learner: Optional[HandleLearner] = None, *,
                 resemble: bool = True) -> None:
        self.brands, self.learner, self.resemble = brands, learner, resemble

    def handles(self, text: str) -> list[str]:
        """The @handles of `text` (its first HANDLE_SCAN_CAP characters), lowercased, without @, in order."""
        if "@" not in text:
            return []
        return [h[1:].lower() for h in HANDLE_RE.findall(text, 0, HANDLE_SCAN_CAP)]

    def observe(self, text: str, brand: Optional[str], author: str = "",
                handles: Optional[list[str]] = None) -> None:
        """Feed one mention to the learner (no-op without a learner or a brand); `handles`: its `handles(text)`,
        when the caller has them already."""
        if self.learner is not None and brand:
            if handles is None:
                handles = self.handles(text)
            if handles:
                self.learner.observe(brand, handles, author)

    def reason(self, text: str, channel: str, brand: Optional[str] = None,
               handles: Optional[list[str]] = None) -> Optional[str]:
        """Why the mention is addressed — "channel", "configured", "care", "resembles" or "learned" — or None;
        `handles`: its `handles(text)`, when the caller has them already."""
        if channel in ADDRESSED_CHANNELS:
            return "channel"
        if handles is None:
            handles = self.handles(text)
        if not handles:
            return None
        table: Mapping[str, str] = self.brands.handles_for(channel)
        learned = self.learner.learned(brand) if self.learner is not None and brand else frozenset()
        found: Optional[str] = None
        for handle in handles:
            if handle in table:
                return "configured"
            if CARE_HANDLE_RE.match("@" + handle) is not None:
                return "care"
            if found is None:
                if brand and self.resemble and handle_resembles(handle, brand):
                    found = "resembles"
                elif handle in learned:
                    found = "learned"
        return found

    def addressed(self, text: str, channel: str, brand: Optional[str] = None,
                  handles: Optional[list[str]] = None) -> bool:
        """True when the mention is addressed to a brand by any of the four rules (`handles` as in `reason`)."""
        return self.reason(text, channel, brand, handles) is not None
