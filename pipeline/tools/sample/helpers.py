"""Small pure helpers of the generator: slugs, capitalisation, timestamps, relative times, codes, cumulative weights."""
from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from random import Random

from pipeline.tools.sample.vocabulary import ALNUM


def slug(text: str) -> str:
    """`Chloé O'Brien` → `chloeobrien` (ASCII letters and digits only)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(5, int(hours * 60))} minutes ago"
    if hours < 20:
        return f"{int(hours)} hours ago" if hours >= 2 else "an hour ago"
    if hours < 44:
        return "yesterday"
    return f"{int(hours // 24)} days ago"


def since(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{max(1, int(hours))} hours" if hours < 48 else f"{int(hours // 24)} days"


def random_code(rng: Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def cumulative(weights: list[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out
