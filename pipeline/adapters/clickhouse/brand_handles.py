"""The handles each brand's stored mentions address, counted in ClickHouse (I/O): the worker's warm start of the
handle learner (`agents.ingest`) and `socialpulse brands suggest` (`pipeline.ops.brands_suggest`) run the same
parameterized query. See docs/brands.md ("Without a complete brands.yml")."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.settings import Settings

#: Days of stored mentions the worker's learner starts from, and the handles kept per brand.
SEED_DAYS = 30
SEED_PER_BRAND = 50
#: Seconds the query may run (the worker's start waits for nothing: the seed arrives when it arrives).
QUERY_TIMEOUT_S = 60

# The @handle rule of pipeline.domain.brands.HANDLE_RE (an @ not preceded by a word character or @, then word
# characters), in the first 1,000 characters (HANDLE_SCAN_CAP). Distinct mentions (uniqExact(mention_id)), not rows:
# a replayed mention's second version is counted once without FINAL.
ADDRESSED_HANDLES_SQL = r"""
SELECT brand, channel, handle, spelling, mentions, authors
FROM
(
    SELECT
        brand,
        channel,
        lowerUTF8(written)      AS handle,
        topK(1)(written)[1]     AS spelling,
        uniqExact(mention_id)   AS mentions,
        uniqExact(author)       AS authors
    FROM mentions
    ARRAY JOIN arrayDistinct(extractAll(substringUTF8(text, 1, 1000),
                                        '(?:^|[^\\p{L}\\p{N}_@])@([\\p{L}\\p{N}_]+)')) AS written
    WHERE brand != '' AND created_at >= now64(3) - toIntervalDay(%(days)s) AND position(text, '@') > 0
    GROUP BY brand, channel, handle
)
ORDER BY brand, mentions DESC, authors DESC, channel, handle
LIMIT %(per_brand)s BY brand
LIMIT %(max_rows)s
"""


@dataclass(frozen=True)
class AddressedHandle:
    """A handle the mentions of one brand on one channel name: `handle` lowercase without @, `spelling` as most
    often written, `mentions` naming it and their distinct `authors`."""

    brand: str
    channel: str
    handle: str
    spelling: str
    mentions: int
    authors: int


def addressed_handles(c, *, days: int = SEED_DAYS, per_brand: int = SEED_PER_BRAND,
                      max_rows: int = 100_000) -> list[AddressedHandle]:
    """The `per_brand` most addressed (channel, handle) pairs of each brand over the last `days` days, by brand
    then mentions (most first), on the clickhouse-driver client `c`."""
    rows = c.execute(ADDRESSED_HANDLES_SQL, {"days": int(days), "per_brand": int(per_brand), "max_rows": int(max_rows)},
                     settings={"max_execution_time": QUERY_TIMEOUT_S})
    return [AddressedHandle(brand, channel, handle, spelling, int(mentions), int(authors))
            for brand, channel, handle, spelling, mentions, authors in rows]


def fetch_addressed_handles(s: Settings, **kwargs) -> list[AddressedHandle]:
    """`addressed_handles` on a client of its own for the configured server (raises what the client raises)."""
    from pipeline.adapters.clickhouse.client import client

    c = client(s)
    try:
        return addressed_handles(c, **kwargs)
    finally:
        c.disconnect()


def learner_rows(found: Iterable[AddressedHandle]) -> list[tuple[str, str, int, int]]:
    """(brand, handle, mentions, authors) per brand and handle, summed over channels: the rows
    `HandleLearner.seed` takes (it counts handles per brand, whatever the channel)."""
    summed: dict[tuple[str, str], list[int]] = {}
    for h in found:
        counts = summed.setdefault((h.brand, h.handle), [0, 0])
        counts[0] += h.mentions
        counts[1] += h.authors
    return [(brand, handle, mentions, authors) for (brand, handle), (mentions, authors) in summed.items()]
