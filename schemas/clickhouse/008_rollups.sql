-- 008_rollups: dirty-day rollups behind the KPI views — a cache of settled days that is always exact
-- (docs/analytics.md; refresh code: pipeline/adapters/clickhouse/rollups.py).
--
-- Why not plain materialized views into SummingMergeTree: an MV sees insert blocks, so a batch replayed with another
-- dedup token would be counted twice, while `mentions FINAL` reads exactly one version per mention. Instead:
--   * every insert block into `mentions` marks its event-time days dirty (mv_mentions_dirty_days: a tiny write);
--     GDPR erase marks the erased person's days (writer.erase_customer → rollups.mark_customer_days);
--     the days of the data written before this file are in rollup_dirty_days_initial (filled once, below);
--   * a refresher (rollups.refresh_day, run by the sink process) recomputes a settled dirty day from `mentions FINAL`
--     into mentions_hourly / mentions_daily with version v = server time − settle margin taken before reading, then
--     records (day, v) in rollup_refreshes. A day is clean when its latest refresh >= its latest mark;
--   * the KPI views read the rollup rows of clean days UNION ALL the old FINAL aggregation of the dirty days, so
--     they give the same numbers as before, whatever the refresher did or did not do yet.
-- A rollup row counts only if version >= its day's latest mark (a refresh that read the current state): a stale row
-- left by a concurrent or crashed refresh of an older state is ignored, whatever the order of their writes.
-- The day classification is read once per query: every view reads it through the same scalar subquery
-- `(SELECT state FROM v_rollup_state)`, which ClickHouse evaluates once per query and shares.

CREATE TABLE IF NOT EXISTS rollup_dirty_days
(
    day       Date,
    marked_at DateTime64(3, 'UTC') COMMENT 'server time of the latest write into mentions for this event-time day'
)
ENGINE = ReplacingMergeTree(marked_at)
ORDER BY day;

CREATE TABLE IF NOT EXISTS rollup_refreshes
(
    day          Date,
    refreshed_at DateTime64(3, 'UTC') COMMENT 'version of the latest completed refresh: covers marks up to it'
)
ENGINE = ReplacingMergeTree(refreshed_at)
ORDER BY day;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_mentions_dirty_days TO rollup_dirty_days AS
SELECT toDate(created_at) AS day, max(now64(3, 'UTC')) AS marked_at
FROM mentions
GROUP BY day;

-- The days of the data written before this file: dirty from the start (read from the base table until refreshed).
-- A table of their own, filled once at creation (after the materialized view exists, so no insert falls between).
CREATE TABLE IF NOT EXISTS rollup_dirty_days_initial
ENGINE = MergeTree
ORDER BY day
AS SELECT DISTINCT toDate(created_at) AS day, now64(3, 'UTC') AS marked_at
FROM mentions;

-- hour × brand × channel: what v_sentiment_hourly needs.
CREATE TABLE IF NOT EXISTS mentions_hourly
(
    day          Date,
    brand        LowCardinality(String),
    channel      LowCardinality(String),
    hour         DateTime('UTC'),
    version      DateTime64(3, 'UTC'),
    mentions     UInt64,
    compound_sum Float64,
    positive     UInt64,
    negative     UInt64,
    complaints   UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (day, brand, channel, hour);

-- day × brand: what v_complaint_rate, v_word_of_mouth, v_share_of_voice, v_community_health and the analyst
-- questions over periods need. Distinct counts that combine over several days are exact aggregate states.
CREATE TABLE IF NOT EXISTS mentions_daily
(
    day                 Date,
    brand               LowCardinality(String),
    version             DateTime64(3, 'UTC'),
    mentions            UInt64,
    complaints          UInt64,
    positive            UInt64,
    negative            UInt64,
    customer_mentions   UInt64,
    prospect_mentions   UInt64,
    customer_net        Int64 COMMENT 'positive − negative mentions by customers',
    prospect_net        Int64 COMMENT 'positive − negative mentions by prospects',
    original_posts      UInt64,
    distinct_people     UInt64,
    distinct_customers  UInt64,
    distinct_prospects  UInt64,
    authors             AggregateFunction(uniqExact, String, String) COMMENT 'uniqExact(channel, author)',
    complainers         AggregateFunction(uniqExact, String) COMMENT 'uniqExactIf(customer_id, is_complaint)'
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (day, brand);

-- Per day: latest mark, latest refresh; clean = refreshed at or after the latest mark; min_version = the version a
-- rollup row needs to count (rows of older refreshes may describe an older state of the day).
CREATE OR REPLACE VIEW v_rollup_days AS
SELECT
    day,
    m.marked_at                                           AS marked_at,
    r.refreshed_at                                        AS refreshed_at,
    r.refreshed_at IS NOT NULL
        AND (m.marked_at IS NULL OR r.refreshed_at >= m.marked_at) AS clean,
    ifNull(m.marked_at, toDateTime64(0, 3, 'UTC'))        AS min_version
FROM
(
    SELECT day, max(marked_at) AS marked_at
    FROM (SELECT day, marked_at FROM rollup_dirty_days UNION ALL SELECT day, marked_at FROM rollup_dirty_days_initial)
    GROUP BY day
) AS m
FULL OUTER JOIN (SELECT day, refreshed_at FROM rollup_refreshes FINAL) AS r USING (day)
SETTINGS join_use_nulls = 1;

-- Days whose latest mark is newer than their latest refresh (or never refreshed): read from the base table.
CREATE OR REPLACE VIEW v_rollup_dirty_days AS
SELECT day, marked_at, refreshed_at
FROM v_rollup_days
WHERE NOT clean;

-- The whole classification as one value (dirty days, clean day → min_version): read it as the scalar
-- `(SELECT state FROM v_rollup_state)` so that every part of a query sees the same classification.
CREATE OR REPLACE VIEW v_rollup_state AS
SELECT tuple(arraySort(groupArrayIf(day, NOT clean)),
             mapFromArrays(groupArrayIf(day, clean), groupArrayIf(min_version, clean))) AS state
FROM v_rollup_days;

-- The aggregations of the base table, one row per group of every day (exact, read with FINAL): what a refresh
-- writes into the rollups, and what the views below read for the dirty days.
CREATE OR REPLACE VIEW v_mentions_hourly_base AS
SELECT
    toDate(created_at)                    AS day,
    toStartOfHour(created_at)             AS hour,
    brand,
    channel,
    count()                               AS mentions,
    sum(toFloat64(sentiment_compound))    AS compound_sum,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'negative') AS negative,
    countIf(is_complaint)                 AS complaints
FROM mentions FINAL
GROUP BY day, hour, brand, channel;

CREATE OR REPLACE VIEW v_mentions_daily_base AS
SELECT
    toDate(created_at)                                                       AS day,
    brand,
    count()                                                                  AS mentions,
    countIf(is_complaint)                                                    AS complaints,
    countIf(sentiment_label = 'positive')                                    AS positive,
    countIf(sentiment_label = 'negative')                                    AS negative,
    countIf(NOT is_prospect)                                                 AS customer_mentions,
    countIf(is_prospect)                                                     AS prospect_mentions,
    countIf(sentiment_label = 'positive' AND NOT is_prospect)
        - countIf(sentiment_label = 'negative' AND NOT is_prospect)          AS customer_net,
    countIf(sentiment_label = 'positive' AND is_prospect)
        - countIf(sentiment_label = 'negative' AND is_prospect)              AS prospect_net,
    countIf(in_reply_to = '')                                                AS original_posts,
    uniqExact(customer_id)                                                   AS distinct_people,
    uniqExactIf(customer_id, NOT is_prospect)                                AS distinct_customers,
    uniqExactIf(customer_id, is_prospect)                                    AS distinct_prospects,
    uniqExactState(channel, author)                                          AS authors,
    uniqExactStateIf(customer_id, is_complaint)                              AS complainers
FROM mentions FINAL
GROUP BY day, brand;

-- hour × brand × channel of every day: rollup rows of clean days + the base aggregation of the dirty days.
CREATE OR REPLACE VIEW v_mentions_hourly AS
SELECT day, hour, brand, channel, mentions, compound_sum, positive, negative, complaints
FROM mentions_hourly FINAL
-- clean day and version >= its latest mark; a dirty day maps to the year 2299 (no row qualifies). transform() looks
-- the day up in a hash table: a Map lookup scans its keys, 600 ms over a year of hourly rows at 10M mentions
WHERE version >= transform(day, mapKeys((SELECT state FROM v_rollup_state).2),
                           mapValues((SELECT state FROM v_rollup_state).2), toDateTime64('2299-12-31 00:00:00', 3, 'UTC'))
UNION ALL
SELECT day, hour, brand, channel, mentions, compound_sum, positive, negative, complaints
FROM v_mentions_hourly_base
WHERE day IN (SELECT state FROM v_rollup_state).1;

-- day × brand of every day: rollup rows of clean days + the base aggregation of the dirty days.
CREATE OR REPLACE VIEW v_mentions_daily AS
SELECT day, brand, mentions, complaints, positive, negative, customer_mentions, prospect_mentions, customer_net,
       prospect_net, original_posts, distinct_people, distinct_customers, distinct_prospects, authors, complainers
FROM mentions_daily FINAL
-- clean day and version >= its latest mark; a dirty day maps to the year 2299 (no row qualifies). transform() looks
-- the day up in a hash table: a Map lookup scans its keys, 600 ms over a year of hourly rows at 10M mentions
WHERE version >= transform(day, mapKeys((SELECT state FROM v_rollup_state).2),
                           mapValues((SELECT state FROM v_rollup_state).2), toDateTime64('2299-12-31 00:00:00', 3, 'UTC'))
UNION ALL
SELECT day, brand, mentions, complaints, positive, negative, customer_mentions, prospect_mentions, customer_net,
       prospect_net, original_posts, distinct_people, distinct_customers, distinct_prospects, authors, complainers
FROM v_mentions_daily_base
WHERE day IN (SELECT state FROM v_rollup_state).1;

-- The KPI views of 002_analytics.sql: same names, columns and numbers, now over the two views above (each hour or
-- day × brand appears there once: from its rollup when clean, from the base table when dirty).
CREATE OR REPLACE VIEW v_sentiment_hourly AS
SELECT
    hour,
    brand,
    channel,
    mentions,
    compound_sum / mentions AS avg_compound,
    negative / mentions     AS negative_share,
    positive / mentions     AS positive_share,
    complaints
FROM v_mentions_hourly;

CREATE OR REPLACE VIEW v_complaint_rate AS
SELECT
    day,
    brand,
    mentions,
    complaints,
    complaints / mentions            AS complaint_rate,
    finalizeAggregation(complainers) AS complaining_authors
FROM v_mentions_daily;

CREATE OR REPLACE VIEW v_word_of_mouth AS
SELECT
    day,
    brand,
    mentions,
    finalizeAggregation(authors) AS distinct_authors,
    distinct_people,
    distinct_customers,
    distinct_prospects,
    original_posts
FROM v_mentions_daily;

CREATE OR REPLACE VIEW v_share_of_voice AS
SELECT
    day,
    brand,
    mentions,
    sum(mentions) OVER (PARTITION BY day) AS all_brands_mentions,
    mentions / all_brands_mentions        AS share_of_voice,
    positive                              AS positive_mentions,
    negative                              AS negative_mentions
FROM v_mentions_daily
WHERE brand != '';

CREATE OR REPLACE VIEW v_community_health AS
SELECT
    day,
    brand,
    mentions,
    (positive - negative) / mentions                                          AS net_sentiment,
    customer_mentions,
    prospect_mentions,
    if(customer_mentions = 0, NULL, customer_net / customer_mentions)         AS net_sentiment_customers,
    if(prospect_mentions = 0, NULL, prospect_net / prospect_mentions)         AS net_sentiment_prospects,
    distinct_customers,
    distinct_prospects,
    sum(positive - negative) OVER w7 / sum(mentions) OVER w7                  AS net_sentiment_7d
FROM v_mentions_daily
WINDOW w7 AS (PARTITION BY brand ORDER BY toRelativeDayNum(day) RANGE BETWEEN 6 PRECEDING AND CURRENT ROW);

-- Parameterized: one row per brand and piece of [start, end) — the whole days from v_mentions_daily (rollups when
-- clean) and the partial days at the edges from `mentions FINAL` — so that the period questions of
-- docs/queries.md are exact for any start/end and fast for whole days. Sum the counts and merge the states:
-- SELECT brand, sum(mentions), uniqExactMerge(authors) FROM v_brand_period(start = '…', end = '…') GROUP BY brand
CREATE OR REPLACE VIEW v_brand_period AS
WITH
    toDateTime64({start:String}, 3, 'UTC')                   AS period_start,
    toDateTime64({end:String}, 3, 'UTC')                     AS period_end,
    toDate(period_start - toIntervalMillisecond(1)) + 1      AS first_day,
    toDate(period_end)                                       AS end_day
SELECT brand, mentions, complaints, positive, negative, authors, complainers
FROM v_mentions_daily
WHERE day >= first_day AND day < end_day
UNION ALL
SELECT
    brand,
    count()                                     AS mentions,
    countIf(is_complaint)                       AS complaints,
    countIf(sentiment_label = 'positive')       AS positive,
    countIf(sentiment_label = 'negative')       AS negative,
    uniqExactState(channel, author)             AS authors,
    uniqExactStateIf(customer_id, is_complaint) AS complainers
FROM mentions FINAL
WHERE created_at >= period_start AND created_at < period_end
  AND (created_at < toDateTime64(first_day, 3, 'UTC') OR created_at >= toDateTime64(end_day, 3, 'UTC'))
  AND (period_start != toDateTime64(first_day, 3, 'UTC') OR period_end != toDateTime64(end_day, 3, 'UTC'))
GROUP BY brand;
