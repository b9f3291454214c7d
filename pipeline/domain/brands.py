"""Brands as configuration: `brands.yml` → a `Brands` registry (pure, apart from reading the file).

    brands:
      - name: NimbusMobile
        handles:                      # per channel; the leading @ is optional, case does not matter
          twitter: ["@NimbusMobile", "@NimbusHelp"]
          instagram: ["@nimbusmobile"]
        keywords: ["Nimbus app"]      # whole words or phrases, case-insensitive
        aliases: ["Nimbus Mobile"]    # other names of the brand; treated exactly like keywords

The registry answers two questions for the first stage (`pipeline.domain.enrich`): which brand a mention without
`brand` is about (`brand_for`) and whether a text is addressed to a brand (`addressed`: one of the brands' handles
or a known customer-care handle, not any @handle). See docs/brands.md.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Optional

import yaml

from pipeline.settings import Settings
from pipeline.textfile import read_text

#: File looked for in the data dir when `SOCIALPULSE_BRANDS_FILE` is empty.
DEFAULT_FILE_NAME: Final[str] = "brands.yml"

#: Characters of a text searched for handles (as the complaint model: a hostile 1 MB post costs a tweet's time).
HANDLE_SCAN_CAP: Final[int] = 1000
#: Characters of a text searched for keywords (longer: a news article may name the brand late).
KEYWORD_SCAN_CAP: Final[int] = 10_000

# The @handle rule of sentiment.py and the complaint model: @ + word characters, the @ not preceded by a word
# character or @ (e-mail addresses are not handles). The lookbehind after the literal "@" lets the engine skip ahead.
HANDLE_RE: Final = re.compile(r"@(?<![\w@]@)\w+")
#: Known customer-care accounts, named alike across brands (@AppleSupport, @USPSHelp, @comcastcares, @TopmanAskUs):
#: a text addressing one is addressed to a brand even when the brand is not configured.
CARE_HANDLE_RE: Final = re.compile(r"@\w*(?:help|support|cares?|service|askus|custserv|assist)(?!\w)", re.IGNORECASE)

#: What brands.yml accepts as a channel name and as a handle (`socialpulse brands suggest` writes only such).
CHANNEL_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
HANDLE_TEXT_RE: Final = re.compile(r"@?\w{1,64}")
_BRAND_KEYS = ("name", "handles", "keywords", "aliases")
_MAX_NAME = 2048


class BrandsError(ValueError):
    """The brands file (or a registry built in code) is unusable; the message names the file, the brand, what is
    wrong and how to fix it."""


@dataclass(frozen=True)
class Brand:
    """One brand: `handles` maps a channel to its handles there (lowercase, without @), `keywords` are its name,
    aliases and keywords as written (matched as whole words, case-insensitive)."""

    name: str
    handles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()


def _is_word(char: str) -> bool:
    """A word character, as regular expressions' \\w (letters, digits, _)."""
    return char.isalnum() or char == "_"


def normalise_handle(handle: str) -> str:
    """`@NimbusHelp`, `nimbushelp`, ` @nimbusHelp ` → `nimbushelp` (how handles are compared)."""
    return handle.strip().lstrip("@").lower()


class Brands:
    """The registry of configured brands (built by `load_brands`/`parse_brands`, or directly from `Brand`s).
    Raises BrandsError for a name, handle (per channel) or keyword that belongs to two brands."""

    __slots__ = ("brands", "source", "_by_channel", "_any_channel", "_keywords", "_keyword_re", "_keyword_brand")

    def __init__(self, brands: Sequence[Brand] = (), source: str = "<brands>") -> None:
        self.brands: tuple[Brand, ...] = tuple(brands)
        self.source = source
        names: dict[str, str] = {}
        by_channel: dict[str, dict[str, str]] = {}
        any_channel: dict[str, str] = {}
        keyword_brand: dict[str, str] = {}
        for brand in self.brands:
            folded = brand.name.lower()
            if folded in names:
                raise BrandsError(f"{source}: brand {brand.name!r} is listed twice; merge the two entries into one")
            names[folded] = brand.name
            for channel, handles in sorted(brand.handles.items()):
                table = by_channel.setdefault(channel, {})
                for handle in handles:
                    owner = table.get(handle)
                    if owner is not None and owner != brand.name:
                        raise BrandsError(
                            f"{source}: brand {brand.name!r}: handle @{handle} on {channel} already belongs to brand "
                            f"{owner!r}; a handle can belong to one brand only, remove it from one of them")
                    table[handle] = brand.name
                    any_channel.setdefault(handle, brand.name)  # file order decides (documented)
        for brand in self.brands:
            for keyword in (brand.name, *brand.keywords):
                folded = keyword.lower()
                owner = keyword_brand.get(folded)
                if owner is not None and owner != brand.name:
                    raise BrandsError(
                        f"{source}: brand {brand.name!r}: keyword {keyword!r} already refers to brand {owner!r}; "
                        "a keyword or alias can refer to one brand only, remove it from one of them")
                keyword_brand[folded] = brand.name
        self._by_channel = by_channel
        self._any_channel = any_channel
        self._keyword_brand = keyword_brand
        # Longest first, so at one position "Nimbus Mobile" wins over "Nimbus"; ties in sorted order. No lookarounds
        # in the pattern (they cost 3× at every position): word boundaries are checked on the candidates.
        ordered = sorted(keyword_brand, key=lambda k: (-len(k), k))
        self._keywords: dict[str, list[str]] = {}  # first character → keywords, longest first
        for keyword in ordered:
            self._keywords.setdefault(keyword[0], []).append(keyword)
        self._keyword_re: Optional[re.Pattern[str]] = (
            re.compile("|".join(map(re.escape, ordered))) if ordered else None)

    def __len__(self) -> int:
        return len(self.brands)

    def __repr__(self) -> str:
        return f"Brands({', '.join(b.name for b in self.brands) or 'none'} from {self.source})"

    @property
    def names(self) -> tuple[str, ...]:
        """The brands' names in file order."""
        return tuple(b.name for b in self.brands)

    @property
    def all_handles(self) -> Mapping[str, str]:
        """Handle (lowercase, no @) → brand name over every channel (the first brand in file order on a clash)."""
        return self._any_channel

    def handles_for(self, channel: str) -> Mapping[str, str]:
        """Handle (lowercase, no @) → brand name for `channel`. A channel for which no brand lists handles uses every
        brand's handles of every channel (the same account name is the likeliest meaning of an @name there)."""
        table = self._by_channel.get(channel)
        return self._any_channel if table is None else table

    def addressed(self, text: str, channel: str) -> bool:
        """True when `text` (its first HANDLE_SCAN_CAP characters) contains an @handle of one of the brands on
        `channel` (see `handles_for`) or of a known customer-care account (`CARE_HANDLE_RE`); an @handle of anyone
        else (a person, an unlisted account) does not make a text addressed."""
        if "@" not in text:
            return False
        table = self.handles_for(channel)
        for handle in HANDLE_RE.findall(text, 0, HANDLE_SCAN_CAP):
            if handle[1:].lower() in table or CARE_HANDLE_RE.match(handle) is not None:
                return True
        return False

    def brand_for(self, text: str, channel: str, author: str = "") -> Optional[str]:
        """The brand a mention is about, or None: the brand of the first of its handles (on `channel`) in the text;
        else the brand whose handle wrote it (`author`, a brand's own post); else the brand of the first keyword,
        alias or name found as a whole word, case-insensitive (at one position the longest keyword wins; a word
        character is a letter, digit or _)."""
        if "@" in text:
            table = self.handles_for(channel)
            for handle in HANDLE_RE.findall(text, 0, HANDLE_SCAN_CAP):
                owner = table.get(handle[1:].lower())
                if owner is not None:
                    return owner
        if author:
            owner = self.handles_for(channel).get(normalise_handle(author))
            if owner is not None:
                return owner
        return self._keyword_owner(text)

    def _keyword_owner(self, text: str) -> Optional[str]:
        """The brand of the first whole-word keyword in `text` (the longest at one position), or None."""
        pattern = self._keyword_re
        if pattern is None:
            return None
        low = text[:KEYWORD_SCAN_CAP].lower()
        pos = 0
        while True:
            match = pattern.search(low, pos)
            if match is None:
                return None
            start = match.start()
            if start == 0 or not _is_word(low[start - 1]):
                # The longest keyword at this position that also ends at a word boundary.
                for keyword in self._keywords[low[start]]:
                    end = start + len(keyword)
                    if low.startswith(keyword, start) and (end == len(low) or not _is_word(low[end])):
                        return self._keyword_brand[keyword]
            pos = start + 1


#: The registry with no brands (only care handles make a text addressed; no brand is ever assigned).
NO_BRANDS: Final = Brands((), "<no brands>")


def _strings(value: object, where: str, what: str, example: str) -> list[str]:
    """A YAML list of non-empty strings, or a BrandsError saying how to write it."""
    if value is None:
        return []
    if isinstance(value, str):
        quoted = value.replace('"', '\\"')
        raise BrandsError(f'{where} must be a list, got the single text {value!r}; write it as ["{quoted}"]')
    if not isinstance(value, list):
        raise BrandsError(f"{where} must be a list of {what} like [{example}], got {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise BrandsError(f"{where}[{i}] must be a non-empty text ({what}, e.g. {example}), got {item!r}; "
                              "quote it if YAML reads it as a number or date")
        out.append(item.strip())
    return out


def _brand(entry: object, index: int, source: str) -> Brand:
    if not isinstance(entry, dict):
        raise BrandsError(f"{source}: brands[{index}] must be a mapping with name, handles, keywords; "
                          f"got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BrandsError(f"{source}: brands[{index}] needs a name (text), got {name!r}; add e.g. name: \"Brewly\" "
                          "(quote names that YAML would read as a number)")
    name = name.strip()
    if len(name) > _MAX_NAME:
        raise BrandsError(f"{source}: brands[{index}]: name longer than {_MAX_NAME} characters")
    where = f"{source}: brand {name!r}"
    unknown = sorted(str(k) for k in entry if k not in _BRAND_KEYS)
    if unknown:
        raise BrandsError(f"{where}: unknown key(s) {', '.join(unknown)}; a brand has {', '.join(_BRAND_KEYS)}")
    raw_handles = entry.get("handles") or {}
    if not isinstance(raw_handles, dict):
        raise BrandsError(f"{where}: handles must map a channel to a list, e.g. handles: {{twitter: [\"@{name}\"]}}; "
                          f"got {type(raw_handles).__name__}")
    handles: dict[str, tuple[str, ...]] = {}
    for channel, listed in raw_handles.items():
        if not isinstance(channel, str) or CHANNEL_RE.fullmatch(channel) is None:
            raise BrandsError(f"{where}: handles: channel {channel!r} is not a channel name; use the lowercase "
                              "channel of the mentions (twitter, instagram, facebook, …)")
        normalised: list[str] = []
        for i, handle in enumerate(_strings(listed, f"{where}: handles.{channel}", "handles", f'"@{name}"')):
            if HANDLE_TEXT_RE.fullmatch(handle) is None:
                raise BrandsError(f"{where}: handles.{channel}[{i}] {handle!r} is not a handle; a handle is @ and "
                                  "letters, digits or _ (up to 64), as it appears in mention texts")
            if normalise_handle(handle) not in normalised:
                normalised.append(normalise_handle(handle))
        handles[channel] = tuple(normalised)
    keywords: list[str] = []
    for key in ("aliases", "keywords"):
        for keyword in _strings(entry.get(key), f"{where}: {key}", key, '"Nimbus app"'):
            if keyword.lower() not in {k.lower() for k in (name, *keywords)}:
                keywords.append(keyword)
    return Brand(name=name, handles=handles, keywords=tuple(keywords))


def parse_brands(data: object, source: str = "<brands>") -> Brands:
    """The registry from the decoded YAML of a brands file (`source` names it in errors). Raises BrandsError."""
    if data is None:
        raise BrandsError(f"{source}: the file is empty; write a list under `brands:` (see docs/brands.md), "
                          "or `brands: []` for none")
    if not isinstance(data, dict) or "brands" not in data:
        raise BrandsError(f"{source}: expected a mapping with the key `brands:` holding a list of brands "
                          "(see docs/brands.md)")
    unknown = sorted(str(k) for k in data if k != "brands")
    if unknown:
        raise BrandsError(f"{source}: unknown top-level key(s) {', '.join(unknown)}; the file has only `brands:`")
    entries = data["brands"]
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise BrandsError(f"{source}: `brands:` must be a list of brands (each starting with `- name: …`), "
                          f"got {type(entries).__name__}")
    return Brands([_brand(entry, i, source) for i, entry in enumerate(entries)], source)


def load_brands_file(path: str | Path) -> Brands:
    """The registry from a brands.yml file. Raises BrandsError for a missing or unreadable file, bad YAML (with its
    line and column) and every mistake `parse_brands` finds."""
    path = Path(path)
    text = read_text(path, error=BrandsError, what="brands file",
                     fix="create it (see docs/brands.md) or fix SOCIALPULSE_BRANDS_FILE")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BrandsError(f"{path}: not valid YAML ({at}{problem}); check the indentation and quoting there") from None
    return parse_brands(data, str(path))


def brands_path(settings: Settings) -> Optional[Path]:
    """The brands file the worker reads: `settings.brands_file` if set, else `<data_dir>/brands.yml` if it exists,
    else None (no brands)."""
    if settings.brands_file.strip():
        return Path(settings.brands_file.strip()).expanduser()
    default = Path(settings.data_dir) / DEFAULT_FILE_NAME
    return default if default.is_file() else None


def load_brands(settings: Settings) -> Brands:
    """The registry of the worker (see `brands_path`); NO_BRANDS when there is no file. Raises BrandsError when the
    configured file is missing or wrong."""
    path = brands_path(settings)
    return NO_BRANDS if path is None else load_brands_file(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m pipeline.domain.brands FILE…`: check brands files; prints each file's brands, or its error in one line."""
    import sys

    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m pipeline.domain.brands BRANDS.yml [...]", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        try:
            brands = load_brands_file(path)
        except BrandsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        for brand in brands.brands:
            handles = "; ".join(f"{ch}: " + ", ".join("@" + h for h in hs) for ch, hs in sorted(brand.handles.items()))
            print(f"{path}: {brand.name} — handles {handles or 'none'}; keywords besides the name: "
                  f"{', '.join(brand.keywords) or 'none'}")
        if not brands.brands:
            print(f"{path}: no brands")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
