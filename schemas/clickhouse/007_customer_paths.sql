-- 007_customer_paths: the customer page and the customer timeline read one person's rows, not the whole year.
--
-- `mentions` is ordered by (brand, created_at, mention_id) and `alerts` by alert_id: right for brand dashboards and
-- id lookups, but "everything customer C-1 said" had to read every granule (issue 25: 48 s at 100M mentions).
-- Here the same rows are kept a second time, ordered by customer, and maintained by materialized views:
--   mentions → mv_mentions_by_customer → mentions_by_customer  ORDER BY (customer_id, created_at, mention_id)
--   alerts   → mv_alerts_by_customer   → alerts_by_customer    ORDER BY (customer_id, created_at, alert_id)
-- A copy and not a projection: FINAL reads do not use projections, and these tables keep the base tables'
-- ReplacingMergeTree versions (processed_at, updated_at), so a replayed batch (another dedup token) collapses here
-- exactly as it does in the base table, and a new alert version (ack, resolve) replaces the old one. Read them with
-- FINAL and a customer_id filter: the primary key then reads only that person's granules.
--
-- Only the columns the customer paths read are copied (no author_email, author_name, url: personal data kept once).
-- GDPR erase deletes from these tables too (writer.ERASE_TABLES). Existing rows are copied below; a copy written
-- twice (a re-run of this file, `socialpulse analytics rebuild`) collapses like any replay.

CREATE TABLE IF NOT EXISTS mentions_by_customer
(
    customer_id             String,
    created_at              DateTime64(3, 'UTC'),
    mention_id              String,
    processed_at            DateTime64(3, 'UTC'),
    channel                 LowCardinality(String),
    brand                   LowCardinality(String),
    author                  String COMMENT 'personal data: handle or e-mail address',
    author_followers        UInt64,
    text                    String,
    metadata                String,
    is_prospect             Bool,
    customer_tier           LowCardinality(String),
    customer_lifetime_value Float64,
    influence               Float32,
    sentiment_compound      Float32,
    sentiment_label         LowCardinality(String),
    is_complaint            Bool,
    complaint_score         Float32,
    complaint_cues          Array(LowCardinality(String))
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (customer_id, created_at, mention_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_mentions_by_customer TO mentions_by_customer AS
SELECT customer_id, created_at, mention_id, processed_at, channel, brand, author, author_followers, text, metadata,
       is_prospect, customer_tier, customer_lifetime_value, influence, sentiment_compound, sentiment_label,
       is_complaint, complaint_score, complaint_cues
FROM mentions;

CREATE TABLE IF NOT EXISTS alerts_by_customer
(
    customer_id             String,
    created_at              DateTime64(3, 'UTC'),
    alert_id                String,
    updated_at              DateTime64(3, 'UTC'),
    type                    LowCardinality(String),
    severity                LowCardinality(String),
    reasons                 Array(String),
    mention_id              String,
    is_prospect             Bool,
    brand                   LowCardinality(String),
    channel                 LowCardinality(String),
    text                    String,
    sentiment_compound      Float32,
    sentiment_label         LowCardinality(String),
    complaint_score         Float32,
    prior_complaints        UInt32,
    prior_window_days       UInt16,
    channels_complained_on  Array(LowCardinality(String)),
    customer_tier           LowCardinality(String),
    customer_lifetime_value Float64,
    influence               Float32,
    window_start            Nullable(DateTime64(3, 'UTC')),
    top_mentions            Array(Tuple(mention_id String, text String, sentiment_compound Float32)),
    status                  LowCardinality(String),
    assignee                String
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (customer_id, created_at, alert_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_alerts_by_customer TO alerts_by_customer AS
SELECT customer_id, created_at, alert_id, updated_at, type, severity, reasons, mention_id, is_prospect, brand,
       channel, text, sentiment_compound, sentiment_label, complaint_score, prior_complaints, prior_window_days,
       channels_complained_on, customer_tier, customer_lifetime_value, influence, window_start, top_mentions, status,
       assignee
FROM alerts;

-- The rows written before this migration (a re-run copies them again: collapsed by the Replacing key).
INSERT INTO mentions_by_customer
SELECT customer_id, created_at, mention_id, processed_at, channel, brand, author, author_followers, text, metadata,
       is_prospect, customer_tier, customer_lifetime_value, influence, sentiment_compound, sentiment_label,
       is_complaint, complaint_score, complaint_cues
FROM mentions;

INSERT INTO alerts_by_customer
SELECT customer_id, created_at, alert_id, updated_at, type, severity, reasons, mention_id, is_prospect, brand,
       channel, text, sentiment_compound, sentiment_label, complaint_score, prior_complaints, prior_window_days,
       channels_complained_on, customer_tier, customer_lifetime_value, influence, window_start, top_mentions, status,
       assignee
FROM alerts;

-- Everything one customer said (on any channel, also while still a prospect) and every alert about them, now read
-- from the customer-ordered tables (same columns and rows as 002's definition).
CREATE OR REPLACE VIEW v_customer_timeline AS
SELECT *
FROM
(
    SELECT
        created_at                              AS at,
        'mention'                               AS kind,
        mention_id                              AS ref_id,
        customer_id,
        is_prospect,
        channel,
        brand,
        author,
        text,
        sentiment_label,
        sentiment_compound,
        is_complaint,
        arrayStringConcat(complaint_cues, ',')  AS detail,
        ''                                      AS status
    FROM mentions_by_customer FINAL
    WHERE customer_id = {customer_id:String}
       OR customer_id IN (SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = {customer_id:String})
    ORDER BY processed_at DESC
    LIMIT 1 BY mention_id -- a mention replayed under the customer's id after its prospect id was linked: once
    UNION ALL
    SELECT
        created_at                              AS at,
        'alert'                                 AS kind,
        alert_id                                AS ref_id,
        customer_id,
        is_prospect,
        channel,
        brand,
        ''                                      AS author,
        text,
        sentiment_label,
        sentiment_compound,
        true                                    AS is_complaint,
        concat(type, ' / ', severity)           AS detail,
        status
    FROM alerts_by_customer FINAL
    WHERE customer_id = {customer_id:String}
       OR customer_id IN (SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = {customer_id:String})
);

-- One person's row of v_customer_value (the same formula as 004's v_customer_value_between over all time, and the
-- same row: a customer without mentions has zeros; a prospect linked to a customer has no row of its own, its
-- mentions count for the customer), read from the customer-ordered table. A test compares both for every person.
--   SELECT * FROM v_customer_value_of(customer_id = 'C-1')
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
                if(empty(l.customer_id), m.customer_id, l.customer_id)              AS owner,
                arraySum(k -> if(JSONType(m.metadata, k) IN ('Int64', 'UInt64', 'Double')
                                     AND JSONExtractFloat(m.metadata, k) > 0,
                                 toUInt64(least(JSONExtractFloat(m.metadata, k), 1e12)), toUInt64(0)),
                         ['likes', 'shares', 'retweets', 'comments', 'replies']) AS engagement
            FROM
            (
                -- the person's own id and the prospects linked to it, each read by the primary key
                SELECT channel, customer_id, is_prospect, customer_tier, customer_lifetime_value, sentiment_label,
                       sentiment_compound, influence, created_at, author_followers, metadata
                FROM mentions_by_customer FINAL
                WHERE customer_id = {customer_id:String}
                   OR customer_id IN (SELECT prospect_id FROM prospect_links FINAL
                                      WHERE customer_id = {customer_id:String})
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
