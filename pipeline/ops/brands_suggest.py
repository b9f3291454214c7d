"""`socialpulse brands suggest`: the handles each brand's stored mentions address most, whether brands.yml knows them,
and a brands.yml snippet of the ones to add; and the warning `up` and the worker give when no brand is configured.

The handles come from ClickHouse (`pipeline.adapters.clickhouse.brand_handles`, the query that also warms the
worker's handle learner); a handle goes into the snippet when it is not configured on its channel and passes the
thresholds of the worker's `HandleLearner` (the same class decides). See docs/brands.md."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import yaml

from pipeline.adapters.clickhouse.brand_handles import SEED_PER_BRAND, AddressedHandle, learner_rows
from pipeline.domain.addressing import HandleLearner, handle_resembles
from pipeline.domain.brands import (CARE_HANDLE_RE, CHANNEL_RE, DEFAULT_FILE_NAME, HANDLE_TEXT_RE, Brands,
                                    brands_path, load_brands, parse_brands)
from pipeline.settings import Settings



def blind_configuration_warning(s: Settings) -> Optional[str]:
    """The one-line warning when no brand is configured (no brands.yml, or `brands: []`), else None. Raises
    BrandsError (a ValueError naming the file) when the configured file is missing or wrong."""
    if len(load_brands(s)):
        return None
    path = brands_path(s) or Path(s.data_dir) / DEFAULT_FILE_NAME
    rules = ("care handles, handles resembling a mention's `brand` and handles learned from the stream"
             if s.complaint_learn_handles else "care handles and handles resembling a mention's `brand`")
    return (f"no brands configured ({path.expanduser().resolve()}): complaints are addressed only by {rules}; "
            "run `socialpulse brands suggest` once mentions flowed, see docs/brands.md")


@dataclass(frozen=True)
class HandleRow:
    """One (channel, handle) a brand's mentions address: `configured` names the brand brands.yml gives it on that
    channel (None: not configured); `learned`: the handle passes the learner's thresholds for the brand."""

    channel: str
    handle: str
    mentions: int
    authors: int
    configured: Optional[str]
    resembles: bool
    care: bool
    learned: bool


@dataclass(frozen=True)
class BrandHandles:
    brand: str
    configured: bool  # the brand is in brands.yml
    handles: tuple[HandleRow, ...]  # the most addressed first (--top)
    to_add: tuple[tuple[str, tuple[str, ...]], ...]  # (channel, handles as written) for the snippet


@dataclass(frozen=True)
class Suggestion:
    days: int
    brands_file: Optional[str]
    min_mentions: int
    min_authors: int
    min_share: float
    brands: tuple[BrandHandles, ...]

    def snippet(self) -> str:
        """brands.yml text of the handles to add (a whole file `parse_brands` accepts), '' when there are none."""
        entries: dict[str, tuple[str, bool, dict[str, list[str]]]] = {}  # folded name → (name, configured, handles)
        for b in self.brands:
            if not b.to_add or not b.brand.strip() or len(b.brand) > 2048:  # a name brands.yml would refuse
                continue
            _, _, handles = entries.setdefault(b.brand.strip().lower(), (b.brand.strip(), b.configured, {}))
            for channel, listed in b.to_add:  # "Brewly" and "brewly" are one brand in brands.yml
                handles.setdefault(channel, []).extend(h for h in listed if h not in handles.get(channel, ()))
        if not entries:
            return ""
        lines = ["brands:"]
        for name, configured, handles in entries.values():
            if configured:
                lines.append("  # in brands.yml already: add these handles to its entry")
            lines += [f"  - name: {_quoted(name)}", "    handles:"]
            lines += [f"      {channel}: [{', '.join(_quoted('@' + h) for h in listed)}]"
                      for channel, listed in sorted(handles.items())]
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict:
        """For `--json` (field names are a contract for scripts)."""
        return {"days": self.days, "brands_file": self.brands_file,
                "thresholds": {"min_mentions": self.min_mentions, "min_authors": self.min_authors,
                               "min_share": self.min_share},
                "brands": [{"brand": b.brand, "configured": b.configured,
                            "handles": [asdict(h) for h in b.handles],
                            "to_add": {channel: ["@" + h for h in handles] for channel, handles in b.to_add}}
                           for b in self.brands],
                "snippet": self.snippet()}

    def render(self) -> str:
        """The report for a terminal: a table per brand, then the snippet and what to do with it."""
        where = self.brands_file or "none"
        out = [f"Handles most addressed per brand, mentions of the last {self.days} days in ClickHouse "
               f"(brands file: {where})"]
        if not self.brands:
            out.append(f"no stored mention of the last {self.days} days has a brand and names an @handle: let mentions "
                       "flow first (they need a `brand` field, or a brands.yml keyword that gives them one)")
            return "\n".join(out)
        width = max(len(h.handle) + 1 for b in self.brands for h in b.handles)
        width = max(width, len("handle"))
        for b in self.brands:
            out += ["", f"{b.brand}  ({'in brands.yml' if b.configured else 'not in brands.yml'})",
                    f"  {'handle':<{width}}  {'channel':<10} {'mentions':>9} {'authors':>8}  {'configured':<12} "
                    "resembles  care  learned"]
            for h in b.handles:
                out.append(f"  {'@' + h.handle:<{width}}  {h.channel:<10} {h.mentions:>9,} {h.authors:>8,}  "
                           f"{h.configured or '-':<12} {_yes(h.resembles):<10} {_yes(h.care):<5} {_yes(h.learned)}")
        snippet = self.snippet()
        out.append("")
        thresholds = (f"≥ {self.min_mentions} mentions by ≥ {self.min_authors} authors and ≥ {self.min_share:.0%} of "
                      "the brand's mentions naming a handle")
        if not snippet:
            out.append(f"Nothing to add: no handle that is not configured passes the thresholds ({thresholds}).")
            return "\n".join(out)
        target = self.brands_file or "<data dir>/brands.yml (or SOCIALPULSE_BRANDS_FILE)"
        out += [f"brands.yml snippet: every handle not configured on its channel that passes the thresholds "
                f"({thresholds}), listed above or not.",
                "Review it (a person many mentions reply to passes too), add it to "
                f"{target}, check with `python -m pipeline.domain.brands FILE` and restart the workers:", "",
                snippet.rstrip("\n")]
        return "\n".join(out)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (every character escaped as YAML wants it)."""
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1 << 30).rstrip("\n")


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def build_suggestion(found: Sequence[AddressedHandle], brands: Brands, *, days: int, top: int, min_mentions: int,
                     brands_file: Optional[str] = None) -> Suggestion:
    """The report from the handles ClickHouse counted (`found`, most addressed first per brand) and the configured
    `brands`: per brand its `top` rows, and the handles to add — not configured on their channel, passing the
    thresholds of a `HandleLearner(min_mentions=…)` seeded with `found` (as the worker's is), under each channel
    with at least `min_mentions` of them (else its most addressed channel); a (channel, handle) two brands would
    claim goes to the brand with more mentions of it (brands.yml allows one owner)."""
    learner = HandleLearner(min_mentions=min_mentions)
    learner.seed(learner_rows(found))
    configured_names = {name.lower() for name in brands.names}
    by_brand: dict[str, list[AddressedHandle]] = {}
    for h in found:
        by_brand.setdefault(h.brand, []).append(h)
    owner: dict[tuple[str, str], tuple[int, str]] = {}  # (channel, handle) → (-mentions, brand) of the claim kept
    candidates: dict[str, list[AddressedHandle]] = {}
    for brand, rows in by_brand.items():
        rows.sort(key=lambda h: (-h.mentions, -h.authors, h.channel, h.handle))
        learned = learner.learned(brand)
        best_channel: dict[str, AddressedHandle] = {}
        for h in rows:
            if h.handle in learned:
                best_channel.setdefault(h.handle, h)
        for h in rows:
            if (h.handle not in learned or h.handle in brands.handles_for(h.channel)
                    or not CHANNEL_RE.fullmatch(h.channel) or not HANDLE_TEXT_RE.fullmatch(h.spelling)
                    or not (h.mentions >= min_mentions or best_channel[h.handle] is h)):
                continue
            candidates.setdefault(brand, []).append(h)
            claim = (-h.mentions, brand)
            owner[(h.channel, h.handle)] = min(owner.get((h.channel, h.handle), claim), claim)
    result = []
    for brand in sorted(by_brand, key=str.lower):
        learned = learner.learned(brand)
        rows = [HandleRow(h.channel, h.spelling, h.mentions, h.authors, brands.handles_for(h.channel).get(h.handle),
                          handle_resembles(h.handle, brand), CARE_HANDLE_RE.fullmatch("@" + h.handle) is not None,
                          h.handle in learned) for h in by_brand[brand][:top]]
        to_add: dict[str, list[str]] = {}
        for h in candidates.get(brand, []):
            if owner[(h.channel, h.handle)][1] == brand:
                to_add.setdefault(h.channel, []).append(h.spelling)
        result.append(BrandHandles(brand, brand.lower() in configured_names, tuple(rows),
                                   tuple((c, tuple(hs)) for c, hs in sorted(to_add.items()))))
    suggestion = Suggestion(days, brands_file, min_mentions, learner.min_authors, learner.min_share, tuple(result))
    text = suggestion.snippet()
    if text:
        parse_brands(yaml.safe_load(text), "the suggested snippet")  # a snippet brands.yml would refuse is a bug here
    return suggestion


def suggest_handles(s: Settings, *, days: int = 30, top: int = 5, min_mentions: int = 10) -> Suggestion:
    """`socialpulse brands suggest`: reads brands.yml (BrandsError when it is wrong) and counts the handles in
    ClickHouse (the client's errors propagate: the CLI prints them as one line)."""
    from pipeline.adapters.clickhouse.brand_handles import fetch_addressed_handles

    brands = load_brands(s)
    path = brands_path(s)
    found = fetch_addressed_handles(s, days=days, per_brand=max(SEED_PER_BRAND, top))
    return build_suggestion(found, brands, days=days, top=top, min_mentions=min_mentions,
                            brands_file=str(path.resolve()) if path is not None else None)
