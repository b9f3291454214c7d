-- 010_value_paths: the value questions and the customer search without full scans (issue 25).
--
-- 1. `engagement` (likes + shares + retweets + comments + replies of a mention's metadata, the rule of
--    pipeline/domain/identity.py engagement_of and of 004) was parsed out of the JSON text by every value query,
--    five JSON lookups per mention: 2.6 s of the 2.5 s advocates panel at 20M mentions. It is now a MATERIALIZED
--    column computed once at insert, in `mentions` and in `mentions_by_customer`; existing parts are materialized by
--    a background mutation (until it finishes, reads compute the same value from `metadata`). The value views read
--    the column; their formula and rows are unchanged (tests compare them with the Python reference).
-- 2. `identities_by_handle`: the identities ordered by handle, maintained by a materialized view with the base
--    table's version rule (a customer's row outranks a prospect's), so the customer search box (exact handle or
--    handle prefix) reads a key range instead of every identity. Tombstones and erase delete from it too
--    (writer.py). Existing identities are copied (a re-run collapses like any replay).

ALTER TABLE mentions ADD COLUMN IF NOT EXISTS engagement UInt64 MATERIALIZED
    arraySum(k -> if(JSONType(metadata, k) IN ('Int64', 'UInt64', 'Double') AND JSONExtractFloat(metadata, k) > 0,
                      toUInt64(least(JSONExtractFloat(metadata, k), 1e12)), toUInt64(0)),
             ['likes', 'shares', 'retweets', 'comments', 'replies'])
    COMMENT 'likes + shares + retweets + comments + replies in metadata (engagement_of)';

ALTER TABLE mentions_by_customer ADD COLUMN IF NOT EXISTS engagement UInt64 MATERIALIZED
    arraySum(k -> if(JSONType(metadata, k) IN ('Int64', 'UInt64', 'Double') AND JSONExtractFloat(metadata, k) > 0,
                      toUInt64(least(JSONExtractFloat(metadata, k), 1e12)), toUInt64(0)),
             ['likes', 'shares', 'retweets', 'comments', 'replies']);

ALTER TABLE mentions MATERIALIZE COLUMN engagement;

ALTER TABLE mentions_by_customer MATERIALIZE COLUMN engagement;

CREATE TABLE IF NOT EXISTS identities_by_handle
(
    handle       String COMMENT 'personal data',
    identity_key String COMMENT 'personal data',
    channel      LowCardinality(String),
    customer_id  String,
    is_prospect  Bool,
    updated_at   DateTime64(3, 'UTC'),
    version      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (handle, identity_key);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_identities_by_handle TO identities_by_handle AS
SELECT handle, identity_key, channel, customer_id, is_prospect, updated_at,
       if(is_prospect, toDateTime64(0, 3, 'UTC'), updated_at) AS version
FROM identities;

INSERT INTO identities_by_handle
SELECT handle, identity_key, channel, customer_id, is_prospect, updated_at,
       if(is_prospect, toDateTime64(0, 3, 'UTC'), updated_at) AS version
FROM identities;

-- 004's formula, reading the engagement column (the constants are value.py's; see 004 for the rules), then the same
-- formula for one person from the customer-ordered table (the same row as v_customer_value's: a customer without
-- mentions has zeros, a prospect linked to a customer has no row of its own; a test compares both for every person):
--   SELECT * FROM v_customer_value_of(customer_id = 'C-1')
CREATE OR REPLACE VIEW v_customer_value_between AS
WITH
    0.0005 AS referral_conversion,
    2.0    AS negative_weight,
    ifNull((SELECT if(countIf(lifetime_value > 0) = 0, 0., avgIf(lifetime_value, lifetime_value > 0))
            FROM customers FINAL), 0.) * referral_conversion AS value_per_reached,
    notEmpty(c.customer_id) AS has_customer -- the row comes from `customers`
SELECT
    if(has_customer, c.customer_id, p.owner)                                        AS customer_id,
    NOT has_customer AND p.as_prospect                                              AS is_prospect,
    if(has_customer, c.tier, p.tier)                                                AS tier,
    if(has_customer, c.lifetime_value, p.lifetime_value)                            AS lifetime_value,
    value_per_reached * (p.positive_weighted - negative_weight * p.negative_weighted) AS referral_value,
    toInt64(p.positive_reach) - toInt64(p.negative_reach)                           AS advocacy,
    p.mentions                                                                      AS mentions,
    p.positive                                                                      AS positive,
    p.negative                                                                      AS negative,
    p.reach                                                                         AS reach,
    if(p.mentions > 0, p.influence, c.influence)                                    AS influence,
    p.first_seen                                                                    AS first_seen,
    p.last_seen                                                                     AS last_seen
FROM (SELECT customer_id, tier, lifetime_value, influence FROM customers FINAL) AS c
FULL OUTER JOIN
(
    -- per person (owner): the mentions in the window
    SELECT
        owner,
        min(as_prospect)                                          AS as_prospect,
        argMax(customer_tier, created_at)                         AS tier,
        argMax(customer_lifetime_value, created_at)               AS lifetime_value,
        count()                                                   AS mentions,
        countIf(sentiment_label = 'positive')                     AS positive,
        countIf(sentiment_label = 'negative')                     AS negative,
        sum(reach_m)                                              AS reach,
        sumIf(reach_m, sentiment_label = 'positive')              AS positive_reach,
        sumIf(reach_m, sentiment_label = 'negative')              AS negative_reach,
        sumIf(reach_m * strength_m, sentiment_label = 'positive') AS positive_weighted,
        sumIf(reach_m * strength_m, sentiment_label = 'negative') AS negative_weighted,
        max(influence)                                            AS influence,
        toNullable(min(created_at))                               AS first_seen,
        toNullable(max(created_at))                               AS last_seen
    FROM
    (
        -- per mention: its owner, reach_m and strength_m
        SELECT
            o.owner                                                           AS owner,
            o.is_prospect AND o.owner = o.customer_id                         AS as_prospect,
            o.customer_tier                                                   AS customer_tier,
            o.customer_lifetime_value                                         AS customer_lifetime_value,
            o.sentiment_label                                                 AS sentiment_label,
            o.influence                                                       AS influence,
            o.created_at                                                      AS created_at,
            if(o.channel IN ('email', 'support'), toUInt64(0),
               greatest(o.author_followers, f.followers) + o.engagement)         AS reach_m,
            abs(toFloat64(o.sentiment_compound))                              AS strength_m
        FROM
        (
            SELECT
                m.*,
                if(empty(l.customer_id), m.customer_id, l.customer_id)              AS owner
            FROM
            (
                SELECT channel, customer_id, is_prospect, customer_tier, customer_lifetime_value, sentiment_label,
                       sentiment_compound, influence, created_at, author_followers, engagement
                FROM mentions FINAL
                WHERE created_at >= {start:DateTime64(3, 'UTC')} AND created_at < {end:DateTime64(3, 'UTC')}
            ) AS m
            LEFT ANY JOIN (SELECT prospect_id, customer_id FROM prospect_links FINAL) AS l
                ON m.customer_id = l.prospect_id
        ) AS o
        LEFT ANY JOIN (SELECT customer_id, followers FROM customers FINAL) AS f ON o.owner = f.customer_id
    )
    GROUP BY owner
) AS p
ON c.customer_id = p.owner
SETTINGS join_use_nulls = 0;

CREATE OR REPLACE VIEW v_customer_value_of AS
WITH
    0.0005 AS referral_conversion,
    2.0    AS negative_weight,
    ifNull((SELECT if(countIf(lifetime_value > 0) = 0, 0., avgIf(lifetime_value, lifetime_value > 0))
            FROM customers FINAL), 0.) * referral_conversion AS value_per_reached,
    notEmpty(c.customer_id) AS has_customer
SELECT
    if(has_customer, c.customer_id, p.owner)                                        AS customer_id,
    NOT has_customer AND p.as_prospect                                              AS is_prospect,
    if(has_customer, c.tier, p.tier)                                                AS tier,
    if(has_customer, c.lifetime_value, p.lifetime_value)                            AS lifetime_value,
    value_per_reached * (p.positive_weighted - negative_weight * p.negative_weighted) AS referral_value,
    toInt64(p.positive_reach) - toInt64(p.negative_reach)                           AS advocacy,
    p.mentions                                                                      AS mentions,
    p.positive                                                                      AS positive,
    p.negative                                                                      AS negative,
    p.reach                                                                         AS reach,
    if(p.mentions > 0, p.influence, c.influence)                                    AS influence,
    p.first_seen                                                                    AS first_seen,
    p.last_seen                                                                     AS last_seen
FROM (SELECT customer_id, tier, lifetime_value, influence FROM customers FINAL
      WHERE customer_id = {customer_id:String}) AS c
FULL OUTER JOIN
(
    SELECT
        owner,
        min(as_prospect)                                          AS as_prospect,
        argMax(customer_tier, created_at)                         AS tier,
        argMax(customer_lifetime_value, created_at)               AS lifetime_value,
        count()                                                   AS mentions,
        countIf(sentiment_label = 'positive')                     AS positive,
        countIf(sentiment_label = 'negative')                     AS negative,
        sum(reach_m)                                              AS reach,
        sumIf(reach_m, sentiment_label = 'positive')              AS positive_reach,
        sumIf(reach_m, sentiment_label = 'negative')              AS negative_reach,
        sumIf(reach_m * strength_m, sentiment_label = 'positive') AS positive_weighted,
        sumIf(reach_m * strength_m, sentiment_label = 'negative') AS negative_weighted,
        max(influence)                                            AS influence,
        toNullable(min(created_at))                               AS first_seen,
        toNullable(max(created_at))                               AS last_seen
    FROM
    (
        SELECT
            o.owner                                                           AS owner,
            o.is_prospect AND o.owner = o.customer_id                         AS as_prospect,
            o.customer_tier                                                   AS customer_tier,
            o.customer_lifetime_value                                         AS customer_lifetime_value,
            o.sentiment_label                                                 AS sentiment_label,
            o.influence                                                       AS influence,
            o.created_at                                                      AS created_at,
            if(o.channel IN ('email', 'support'), toUInt64(0),
               greatest(o.author_followers, f.followers) + o.engagement)         AS reach_m,
            abs(toFloat64(o.sentiment_compound))                              AS strength_m
        FROM
        (
            SELECT
                m.*,
                if(empty(l.customer_id), m.customer_id, l.customer_id)              AS owner
            FROM
            (
                -- the person's own id and the prospects linked to it, each read by the primary key
                SELECT channel, customer_id, is_prospect, customer_tier, customer_lifetime_value, sentiment_label,
                       sentiment_compound, influence, created_at, author_followers, engagement
                FROM mentions_by_customer FINAL
                WHERE customer_id = {customer_id:String}
                   OR customer_id IN (SELECT prospect_id FROM prospect_links FINAL
                                      WHERE customer_id = {customer_id:String})
                -- a mention replayed under the customer's id after its prospect id was linked counts once
                ORDER BY processed_at DESC
                LIMIT 1 BY mention_id
            ) AS m
            LEFT ANY JOIN (SELECT prospect_id, customer_id FROM prospect_links FINAL
                           WHERE prospect_id = {customer_id:String} OR customer_id = {customer_id:String}) AS l
                ON m.customer_id = l.prospect_id
        ) AS o
        LEFT ANY JOIN (SELECT customer_id, followers FROM customers FINAL
                       WHERE customer_id = {customer_id:String}) AS f ON o.owner = f.customer_id
        WHERE o.owner = {customer_id:String}
    )
    GROUP BY owner
) AS p
ON c.customer_id = p.owner
SETTINGS join_use_nulls = 0;
