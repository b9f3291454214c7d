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

-- One person's customer value from these tables (v_customer_value_of) is defined in 010, with the materialized
-- engagement column.
