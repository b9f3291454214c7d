"""The questions analysts ask, with the ClickHouse SQL that answers each (the source of docs/queries.md).

`python -m pipeline.adapters.clickhouse.queries > docs/queries.md` regenerates the document; a test keeps both in
sync and runs every query against a fixture data set (the customer value SQL lives in value_sql.py). Parameters are
`%(name)s` placeholders filled by clickhouse-driver; times are UTC strings 'YYYY-MM-DD HH:MM:SS[.fff]' (`run_query`
also accepts datetimes).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Mapping

from pipeline.adapters.clickhouse.value_sql import QUADRANT_SQL, TOP_ADVOCATES_SQL, TURNING_DETRACTORS_SQL


@dataclass(frozen=True)
class AnalystQuery:
    """One question, the SQL that answers it and example values of its parameters."""

    name: str
    question: str
    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    notes: str = ""


#: The period questions read `v_brand_period`: whole days from the rollups, partial days at the edges from the base.
PERIOD_NOTE = ("Exact for any `start`/`end`; whole days (midnight UTC) are read from the day × brand rollups, the "
               "hours of a partial first or last day from the base table (docs/analytics.md).")

QUERIES: tuple[AnalystQuery, ...] = (
    AnalystQuery(
        name="customers_complaining_on_several_channels",
        question="Which customers complained on two or more channels this week?",
        notes="Prospects are left out: a prospect id belongs to one handle on one channel.",
        params={"start": "2026-11-09 00:00:00", "end": "2026-11-16 00:00:00", "min_channels": 2},
        sql="""
SELECT
    customer_id,
    argMax(customer_tier, created_at)  AS tier,
    uniqExact(channel)                 AS channels,
    arraySort(groupUniqArray(channel)) AS channel_list,
    count()                            AS complaints,
    max(created_at)                    AS last_complaint_at
FROM v_mentions
WHERE is_complaint AND NOT is_prospect
  AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY customer_id
HAVING channels >= %(min_channels)s
ORDER BY channels DESC, complaints DESC, customer_id
"""),
    AnalystQuery(
        name="negative_influencers",
        question="Who are today's most influential authors with negative sentiment?",
        notes="Influence in [0,1] comes from followers and engagement (pipeline/domain/identity.py).",
        params={"start": "2026-11-15 00:00:00", "end": "2026-11-16 00:00:00", "limit": 10},
        sql="""
SELECT
    customer_id,
    channel,
    author,
    max(influence)                    AS influence,
    max(author_followers)             AS followers,
    count()                           AS negative_mentions,
    round(avg(sentiment_compound), 3) AS avg_compound,
    argMin(text, sentiment_compound)  AS most_negative_text
FROM v_mentions
WHERE sentiment_label = 'negative'
  AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY customer_id, channel, author
ORDER BY influence DESC, negative_mentions DESC, author
LIMIT %(limit)s
"""),
    AnalystQuery(
        name="hourly_sentiment_for_brand",
        question="How did sentiment about a brand move hour by hour, per channel?",
        params={"brand": "acme", "start": "2026-11-15 00:00:00", "end": "2026-11-16 00:00:00"},
        sql="""
SELECT
    hour,
    channel,
    mentions,
    round(avg_compound, 3)   AS avg_compound,
    round(negative_share, 3) AS negative_share,
    complaints
FROM v_sentiment_hourly
WHERE brand = %(brand)s AND hour >= %(start)s AND hour < %(end)s
ORDER BY hour, channel
"""),
    AnalystQuery(
        name="complaint_rate_by_brand",
        question="What share of each brand's mentions are complaints, and how many people complained?",
        notes=PERIOD_NOTE,
        params={"start": "2026-11-09 00:00:00", "end": "2026-11-16 00:00:00"},
        sql="""
SELECT
    brand,
    sum(p.mentions)                 AS mentions,
    sum(p.complaints)               AS complaints,
    round(complaints / mentions, 4) AS complaint_rate,
    uniqExactMerge(p.complainers)   AS complaining_authors
FROM v_brand_period(start = %(start)s, end = %(end)s) AS p
WHERE brand != ''
GROUP BY brand
ORDER BY complaint_rate DESC, brand
"""),
    AnalystQuery(
        name="open_alerts_by_brand",
        question="How many alerts are waiting per brand, how severe are they and since when?",
        notes="open = nobody acked it yet; acked = someone is on it; resolved alerts are not counted.",
        sql="""
SELECT
    brand,
    open_alerts,
    acked_alerts,
    critical,
    high,
    unassigned,
    oldest_unresolved_at
FROM v_open_alerts_by_brand
ORDER BY critical DESC, unresolved_alerts DESC, brand
"""),
    AnalystQuery(
        name="share_of_voice",
        question="What is each brand's share of voice over a period, and how positive is it?",
        notes="Mentions that name no brand are left out of the total. " + PERIOD_NOTE,
        params={"start": "2026-10-17 00:00:00", "end": "2026-11-16 00:00:00"},
        sql="""
SELECT
    brand,
    sum(p.mentions)                              AS mentions,
    round(mentions / sum(mentions) OVER (), 4)   AS share_of_voice,
    round(sum(p.positive) / mentions, 4)         AS positive_share,
    round(sum(p.negative) / mentions, 4)         AS negative_share
FROM v_brand_period(start = %(start)s, end = %(end)s) AS p
WHERE brand != ''
GROUP BY brand
ORDER BY mentions DESC, brand
"""),
    AnalystQuery(
        name="word_of_mouth_growth",
        question="How many different people talk about each brand this week, compared with the week before?",
        notes="An author is a handle on a channel; `previous_start` … `start` is the comparison period. "
              + PERIOD_NOTE,
        params={"previous_start": "2026-11-02 00:00:00", "start": "2026-11-09 00:00:00",
                "end": "2026-11-16 00:00:00"},
        sql="""
SELECT
    brand,
    uniqExactMergeIf(p.authors, p.recent)      AS authors,
    uniqExactMergeIf(p.authors, NOT p.recent)  AS authors_before,
    toInt64(authors) - toInt64(authors_before) AS author_growth,
    sumIf(p.mentions, p.recent)                AS mentions,
    sumIf(p.mentions, NOT p.recent)            AS mentions_before
FROM
(
    SELECT true AS recent, * FROM v_brand_period(start = %(start)s, end = %(end)s)
    UNION ALL
    SELECT false AS recent, * FROM v_brand_period(start = %(previous_start)s, end = %(start)s)
) AS p
WHERE brand != ''
GROUP BY brand
ORDER BY authors DESC, brand
"""),
    AnalystQuery(
        name="valuable_customers_with_unresolved_alerts",
        question="Which high-value customers have unresolved complaint alerts, oldest first?",
        notes="`tiers` is a tuple of tier names; either condition makes a customer high-value.",
        params={"tiers": ("gold", "platinum"), "min_lifetime_value": 10000.0},
        sql="""
SELECT
    customer_id,
    argMax(customer_tier, created_at)  AS tier,
    max(customer_lifetime_value)       AS lifetime_value,
    count()                            AS unresolved_alerts,
    countIf(status = 'open')           AS not_acked,
    arraySort(groupUniqArray(channel)) AS channels,
    min(created_at)                    AS oldest_alert_at
FROM v_alerts_unresolved
WHERE NOT is_prospect
  AND (customer_tier IN %(tiers)s OR customer_lifetime_value >= %(min_lifetime_value)s)
GROUP BY customer_id
ORDER BY oldest_alert_at, customer_id
"""),
    AnalystQuery(
        name="community_health_trend",
        question="Is a brand's community getting happier or angrier, customers and prospects apart?",
        notes="net sentiment = (positive − negative) / mentions; net_7d covers the 7 days ending that day "
              "(also counting days before `start`).",
        params={"brand": "acme", "start": "2026-11-09 00:00:00", "end": "2026-11-16 00:00:00"},
        sql="""
SELECT
    day,
    mentions,
    round(net_sentiment, 3)           AS net_sentiment,
    round(net_sentiment_7d, 3)        AS net_7d,
    customer_mentions,
    prospect_mentions,
    round(net_sentiment_customers, 3) AS net_customers,
    round(net_sentiment_prospects, 3) AS net_prospects
FROM v_community_health
WHERE brand = %(brand)s AND day >= toDate(%(start)s) AND day < toDate(%(end)s)
ORDER BY day
"""),
    AnalystQuery(
        name="customer_timeline",
        question="What has one customer said, on every channel, and which alerts did it raise?",
        notes="Includes what the customer wrote while still a prospect (prospect_links); a mention comes before "
              "the alert it raised.",
        params={"customer_id": "C-1"},
        sql="""
SELECT
    at,
    kind,
    channel,
    brand,
    sentiment_label,
    is_complaint,
    detail,
    status,
    text
FROM v_customer_timeline(customer_id = %(customer_id)s)
ORDER BY at, kind = 'alert', ref_id
"""),
    AnalystQuery(
        name="top_advocates",
        question="Who were this month's top advocates?",
        notes="Advocacy = people reached by positive mentions − by negative ones; referral value = what that word "
              "of mouth is worth (docs/customer_value.md). Prospects count: praise from a non-customer is a lead.",
        params={"start": "2026-11-01 00:00:00", "end": "2026-12-01 00:00:00", "limit": 10},
        sql=TOP_ADVOCATES_SQL),
    AnalystQuery(
        name="valuable_customers_turning_detractors",
        question="Which valuable customers are turning into detractors?",
        notes="`start` … `end` against `previous_start` … `start` (give both periods the same length): valuable "
              "customers (lifetime value ≥ `min_lifetime_value` or tier in `tiers`) who spoke in the recent "
              "period and whose advocacy went from ≥ 0 to below 0, or fell by at least `min_drop` people; net "
              "sentiment = (positive − negative) / mentions, empty without mentions.",
        params={"previous_start": "2026-11-02 00:00:00", "start": "2026-11-09 00:00:00",
                "end": "2026-11-16 00:00:00", "min_lifetime_value": 10000.0, "tiers": ("gold", "platinum"),
                "min_drop": 1000},
        sql=TURNING_DETRACTORS_SQL),
    AnalystQuery(
        name="clv_vs_crv_quadrant",
        question="Where do customers sit on CLV vs CRV?",
        notes="Kumar's quadrants of customers (prospects left out): champions (high CLV, high CRV), affluents (high "
              "CLV, low CRV), advocates (low CLV, high CRV), misers (low, low). High = above the split: "
              "`clv_split` defaults (NULL) to the median lifetime value, `crv_split` to the median referral value "
              "of the period but at least 0 (a negative referral value is never high). Per quadrant: customers, "
              "sums, and the five customers with the highest CLV + CRV; empty quadrants are not listed.",
        params={"start": "2026-11-01 00:00:00", "end": "2026-12-01 00:00:00", "clv_split": None,
                "crv_split": None},
        sql=QUADRANT_SQL),
)

BY_NAME: dict[str, AnalystQuery] = {q.name: q for q in QUERIES}


def _param(value: Any) -> Any:
    """A parameter as clickhouse-driver should render it: datetimes as UTC text with milliseconds, lists as tuples."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return tuple(value)
    return value


def run_query(client: Any, name: str, **params: Any) -> list[tuple]:
    """Run the named query (missing parameters take the documented example values); returns the rows."""
    q = BY_NAME[name]
    values = {**q.params, **params}
    return client.execute(q.sql, {k: _param(v) for k, v in values.items()})


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    return str(value)


_VIEWS = (
    ("v_mentions", "one row per mention (latest version: `mentions FINAL`)"),
    ("v_alerts_current", "one row per alert with its current status, assignee, acked_at, resolved_at"),
    ("v_customers_current", "one row per customer"),
    ("v_identities_current", "handle → customer links, prospects included"),
    ("v_sentiment_hourly", "hour × brand × channel: mentions, avg_compound, negative_share, positive_share, "
                           "complaints"),
    ("v_complaint_rate", "day × brand: mentions, complaints, complaint_rate, complaining_authors"),
    ("v_open_alerts_by_brand", "brand: open_alerts, acked_alerts, unresolved_alerts, counts per severity, "
                               "unassigned, oldest_unresolved_at"),
    ("v_word_of_mouth", "day × brand: mentions, distinct_authors, distinct_people, distinct_customers, "
                        "distinct_prospects, original_posts"),
    ("v_share_of_voice", "day × brand: mentions, all_brands_mentions, share_of_voice, positive/negative mentions"),
    ("v_community_health", "day × brand: net_sentiment (all / customers / prospects), net_sentiment_7d, "
                           "mentions and distinct people by customers vs prospects"),
    ("v_mentions_hourly", "hour × brand × channel with day: mentions, compound_sum, positive, negative, complaints "
                          "(rollup-backed; what v_sentiment_hourly reads)"),
    ("v_mentions_daily", "day × brand: counts, sums and `authors` / `complainers` as uniqExact states (merge them "
                         "with uniqExactMerge over several days; rollup-backed; what the day × brand views read)"),
    ("v_brand_period", "parameterized: `v_brand_period(start = '2026-11-09 00:00:00', end = '2026-11-16 00:00:00')` "
                       "— brand rows of a period (whole days from v_mentions_daily, partial days from the base)"),
    ("v_rollup_dirty_days", "days read from the base table until the refresher catches up (docs/analytics.md)"),
    ("v_customer_timeline", "parameterized: `v_customer_timeline(customer_id = 'C-1')` — every mention and alert "
                            "of the customer (also as a prospect)"),
    ("v_customer_value", "one row per customer, and per prospect with mentions: customer_id, is_prospect, tier, "
                         "lifetime_value, referral_value, advocacy, mentions, positive, negative, reach, influence, "
                         "first_seen, last_seen (docs/customer_value.md)"),
    ("v_customer_value_between", "parameterized: `v_customer_value_between(start = '2026-11-01 00:00:00', end = "
                                 "'2026-12-01 00:00:00')` — v_customer_value over the mentions of a period"),
    ("v_customer_value_of", "parameterized: `v_customer_value_of(customer_id = 'C-1')` — that person's row of "
                            "v_customer_value, read from `mentions_by_customer` (fast for one person)"),
)


def queries_markdown() -> str:
    """docs/queries.md: the views, every question with its SQL and example parameters, and the erase path."""
    out = [
        "# Analyst queries",
        "",
        "Generated from `pipeline/adapters/clickhouse/queries.py` (`python -m pipeline.adapters.clickhouse.queries > docs/queries.md`); a test keeps this",
        "file in sync with the code and runs every query on a fixture data set (tests/integration/"
        "test_clickhouse_schema.py).",
        "",
        "All times are UTC (`DateTime64(3, 'UTC')`). `%(name)s` are parameters: from Python use",
        "`pipeline.adapters.clickhouse.queries.run_query(client, name, **params)` (clickhouse-driver fills them in); in `clickhouse-client`",
        "replace them by literals such as `'2026-11-09 00:00:00'`.",
        "",
        "## Tables and views",
        "",
        "Tables (ReplacingMergeTree — always read them with `FINAL` or through a `v_*` view): `mentions`, `alerts`,",
        "`alert_actions` (log of ack / resolve / assign), `customers`, `identities`, `prospect_links`, `identity_links`",
        "(log of manual links, docs/customers.md), `complaint_feedback` (verdicts on the complaint model: one row per",
        "alert or mention, verdict and person, the latest verdict per alert or mention counts; docs/operations.md),",
        "`schema_migrations`. The KPI views read the day and hour rollups (`mentions_daily`, `mentions_hourly`) of",
        "the days that did not change since their last refresh and `mentions FINAL` for the others, so they are",
        "exact at all times and a batch written twice is never counted twice (docs/analytics.md). Copies ordered for",
        "other questions, kept by materialized views with the same versions (read them with `FINAL` too):",
        "`mentions_by_customer` and `alerts_by_customer` (by customer, then time), `identities_by_handle`,",
        "`alerts_unresolved` (unresolved alerts only).",
        "",
        "| view | rows |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {doc} |" for name, doc in _VIEWS]
    out += ["", "## The questions", ""]
    out += [f"{i}. [{q.question}](#{i}-{q.name.replace('_', '-')})" for i, q in enumerate(QUERIES, 1)]
    for i, q in enumerate(QUERIES, 1):
        out += ["", f"## {i}. {q.name.replace('_', '-')}", "", f"**{q.question}**", ""]
        if q.notes:
            out += [q.notes, ""]
        if q.params:
            out += ["Example parameters: " + ", ".join(f"`{k}` = `{_literal(v)}`" for k, v in q.params.items()), ""]
        out += ["```sql", q.sql.strip(), "```"]
    out += [
        "",
        "## Erasing a customer (GDPR)",
        "",
        "`socialpulse customers erase ID` calls `pipeline.adapters.clickhouse.writer.erase_customer(settings, ID)`, which",
        "removes with lightweight `DELETE` (parameterized) every row of the customer — and of the prospect ids of",
        "its handles, found through `prospect_links` and `identities` — from `complaint_feedback` (verdicts on its",
        "mentions and alerts), `mentions`, `alerts`, `alert_actions` (actions on those alerts), `customers`,",
        "`identity_links`, `identities` and `prospect_links`, and returns",
        "the rows removed per table. The rows disappear from every query at once; the bytes are dropped from disk at",
        "the next merge, or",
        "immediately with `purge=True` (`ALTER TABLE … APPLY DELETED MASK`). The erase first marks the person's",
        "days dirty: the views read those days from the base table until the rollups are recomputed without them.",
        "Kafka still holds the customer's records until their retention ends; the command also writes tombstones",
        "for the customer's identities so the worker forgets them.",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(queries_markdown())
