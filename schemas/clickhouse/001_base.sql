-- 001_base: the tables the sink writes to (ARCHITECTURE.md "ClickHouse").
--
-- Migration file rules (pipeline/migrations.py): statements end with `;` at the end of a line; lines starting
-- with `--` are comments; table names are unqualified (the migrator connects to the project database); every
-- statement is idempotent (IF NOT EXISTS / OR REPLACE) so a file interrupted half-way can simply be re-run.
--
-- Idempotence: every table the sink inserts into has non_replicated_deduplication_window, without which a plain
-- MergeTree ignores insert_deduplication_token; a retried batch (same token) is dropped by the server, a replayed
-- batch with another token is collapsed by ReplacingMergeTree (read with FINAL, or through the v_* views).

CREATE TABLE IF NOT EXISTS mentions
(
    mention_id              String COMMENT '<channel>:<source id>',
    source_id               String COMMENT 'RawMention.id as received',
    channel                 LowCardinality(String),
    author                  String COMMENT 'personal data: handle or e-mail address',
    author_name             String COMMENT 'personal data',
    author_followers        UInt64,
    author_email            String COMMENT 'personal data',
    brand                   LowCardinality(String) COMMENT 'empty string when the mention names no brand',
    text                    String,
    url                     String,
    lang                    LowCardinality(String),
    in_reply_to             String,
    metadata                String COMMENT 'JSON text of RawMention.metadata, empty when absent',
    created_at              DateTime64(3, 'UTC'),
    processed_at            DateTime64(3, 'UTC'),
    sentiment_compound      Float32,
    sentiment_pos           Float32,
    sentiment_neu           Float32,
    sentiment_neg           Float32,
    sentiment_label         LowCardinality(String),
    customer_id             String COMMENT 'customer id, or prospect id (P-…) when is_prospect',
    is_prospect             Bool,
    customer_tier           LowCardinality(String),
    customer_lifetime_value Float64,
    influence               Float32,
    is_complaint            Bool,
    complaint_score         Float32,
    complaint_cues          Array(LowCardinality(String)),
    schema_version          UInt16,
    INDEX idx_mention_id mention_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_customer_id customer_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (brand, created_at, mention_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Current state of an alert = the row with the latest updated_at; status changes are new versions written by
-- the sink from alert_actions (see pipeline/sink/clickhouse.py, ALERT_STATE_SQL).
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id                String,
    type                    LowCardinality(String),
    severity                LowCardinality(String),
    reasons                 Array(String),
    mention_id              String,
    customer_id             String,
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
    created_at              DateTime64(3, 'UTC'),
    status                  LowCardinality(String) COMMENT 'open | acked | resolved',
    assignee                String,
    acked_at                Nullable(DateTime64(3, 'UTC')) COMMENT 'first ack',
    resolved_at             Nullable(DateTime64(3, 'UTC')) COMMENT 'last resolve, when status = resolved',
    updated_at              DateTime64(3, 'UTC'),
    schema_version          UInt16,
    INDEX idx_customer_id customer_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY alert_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Log of what people did with alerts. Replacing on the whole key only so that a replayed action (other
-- dedup token, same content) does not appear twice; it is otherwise an append-only log.
CREATE TABLE IF NOT EXISTS alert_actions
(
    alert_id String,
    action   LowCardinality(String) COMMENT 'ack | resolve | assign',
    `by`     String,
    assignee String,
    note     String,
    at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (alert_id, at, action, `by`)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS customers
(
    customer_id    String,
    name           String COMMENT 'personal data',
    tier           LowCardinality(String),
    lifetime_value Float64,
    followers      UInt64,
    influence      Float32,
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Handle → customer links, prospects included. A customer's link always outranks a prospect row for the same key
-- (version of a prospect row is the epoch), whatever order the sink writes them in.
CREATE TABLE IF NOT EXISTS identities
(
    identity_key String COMMENT '<channel>:<handle> or email:<address> (personal data)',
    channel      LowCardinality(String),
    handle       String COMMENT 'personal data',
    customer_id  String,
    is_prospect  Bool,
    updated_at   DateTime64(3, 'UTC'),
    version      DateTime64(3, 'UTC') MATERIALIZED if(is_prospect, toDateTime64(0, 3, 'UTC'), updated_at),
    INDEX idx_customer_id customer_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key
SETTINGS non_replicated_deduplication_window = 1000;

-- A prospect id whose handle (later) belongs to a customer: the customer's timeline and erase include the
-- mentions made while the author was still a prospect.
CREATE TABLE IF NOT EXISTS prospect_links
(
    prospect_id String,
    customer_id String,
    linked_at   DateTime64(3, 'UTC'),
    INDEX idx_customer_id customer_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(linked_at)
ORDER BY prospect_id
SETTINGS non_replicated_deduplication_window = 1000;
