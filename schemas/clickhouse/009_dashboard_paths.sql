-- 009_dashboard_paths: the live page and the alert questions without reading every mention or every alert
-- (issue 25: KPI strip 4.2 s + 1.0 s, open-alert snapshot 1.2 s at 100M mentions / 33M alerts).
--
-- 1. "Mentions that arrived in the last 5 minutes" filters on processed_at, which is not in the sort key
--    (brand, created_at, mention_id): every granule was read. A minmax skip index on processed_at lets ClickHouse skip
--    every granule whose newest mention arrived before the window (mentions arrive roughly in created_at order, so a
--    granule spans minutes of processed_at). Same meaning as before, late arrivals included: a granule holding an
--    old mention processed now is read. Exact under FINAL even without use_skip_indexes_if_final_exact_mode (which
--    KPI_MENTIONS_SQL turns off: it re-reads every granule whose key range meets a selected one, most of the table):
--    the version is processed_at itself, so a skipped granule only holds versions older than the window, whose
--    newer version, if any is in the window, lives in a granule that is read, and whose newest version, if not in
--    the window, is not counted either way. MATERIALIZE INDEX builds the index for the existing parts.
--
-- 2. alerts_unresolved: the alerts that are not resolved, for the snapshot, the KPIs, v_open_alerts_by_brand and
--    the valuable-customers question. Every alert version written to `alerts` (the sink's inserts and reconciles)
--    is copied here by mv_alerts_unresolved with is_deleted = (status = 'resolved'); the engine keeps the same
--    versions as `alerts` (ReplacingMergeTree(updated_at), ORDER BY alert_id, same partitions), so `FINAL` gives
--    the same current row per alert, and drops the alert when that row is a resolved one (is_deleted). A reopened
--    alert (acked after its resolve) is a newer, not deleted version: it is back.
--    Tombstones do not stay: once every part of a month's partition is older than min_age_to_force_merge_seconds,
--    the partition is merged into one part with CLEANUP (the table settings below; allow_experimental_replacing_
--    merge_with_cleanup is still flagged experimental in 26.9, the version we run), which removes the resolved
--    alerts and every older version of them (a plain merge or FINAL never removes a tombstone). Quiet months keep only their unresolved alerts; the month being
--    written keeps its resolved alerts until it is quiet for that long.
--    Caveat of CLEANUP: a version older than a removed tombstone, inserted after the cleanup, would show the alert
--    again. The sink never writes one (every version has updated_at = now, or later than the stored one).
--    GDPR erase deletes from this table too (writer.ERASE_TABLES). Existing alerts are copied below: the current
--    version of each unresolved alert (a re-run inserts the same versions again: collapsed by the Replacing key).

ALTER TABLE mentions ADD INDEX IF NOT EXISTS idx_processed_at processed_at TYPE minmax GRANULARITY 1;
ALTER TABLE mentions MATERIALIZE INDEX IF EXISTS idx_processed_at SETTINGS mutations_sync = 2;

CREATE TABLE IF NOT EXISTS alerts_unresolved
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
    window_start            Nullable(DateTime64(3, 'UTC')),
    top_mentions            Array(Tuple(mention_id String, text String, sentiment_compound Float32)),
    status                  LowCardinality(String) COMMENT 'open | acked (a resolved version is a tombstone)',
    assignee                String,
    acked_at                Nullable(DateTime64(3, 'UTC')),
    resolved_at             Nullable(DateTime64(3, 'UTC')),
    updated_at              DateTime64(3, 'UTC'),
    schema_version          UInt16,
    is_deleted              UInt8 COMMENT '1 when status = resolved: FINAL hides the alert, CLEANUP merges remove it'
)
ENGINE = ReplacingMergeTree(updated_at, is_deleted)
PARTITION BY toYYYYMM(created_at)
ORDER BY alert_id
SETTINGS allow_experimental_replacing_merge_with_cleanup = 1,
         min_age_to_force_merge_seconds = 300,
         min_age_to_force_merge_on_partition_only = 1,
         enable_replacing_merge_with_cleanup_for_min_age_to_force_merge = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_alerts_unresolved TO alerts_unresolved AS
SELECT alert_id, type, severity, reasons, mention_id, customer_id, is_prospect, brand, channel, text,
       sentiment_compound, sentiment_label, complaint_score, prior_complaints, prior_window_days,
       channels_complained_on, customer_tier, customer_lifetime_value, influence, created_at, window_start,
       top_mentions, status, assignee, acked_at, resolved_at, updated_at, schema_version,
       toUInt8(status = 'resolved') AS is_deleted
FROM alerts;

-- The alerts written before this migration: the current version of each unresolved one.
INSERT INTO alerts_unresolved
SELECT alert_id, type, severity, reasons, mention_id, customer_id, is_prospect, brand, channel, text,
       sentiment_compound, sentiment_label, complaint_score, prior_complaints, prior_window_days,
       channels_complained_on, customer_tier, customer_lifetime_value, influence, created_at, window_start,
       top_mentions, status, assignee, acked_at, resolved_at, updated_at, schema_version,
       toUInt8(0) AS is_deleted
FROM alerts FINAL
WHERE status != 'resolved';

-- One row per unresolved alert (open or acked): its current version.
CREATE OR REPLACE VIEW v_alerts_unresolved AS
SELECT * EXCEPT is_deleted FROM alerts_unresolved FINAL;

-- 002's view, now over the unresolved alerts only (same columns and rows).
CREATE OR REPLACE VIEW v_open_alerts_by_brand AS
SELECT
    brand,
    countIf(status = 'open')                         AS open_alerts,
    countIf(status = 'acked')                        AS acked_alerts,
    count()                                          AS unresolved_alerts,
    countIf(severity = 'critical')                   AS critical,
    countIf(severity = 'high')                       AS high,
    countIf(severity = 'medium')                     AS medium,
    countIf(severity = 'low')                        AS low,
    countIf(assignee = '')                           AS unassigned,
    min(created_at)                                  AS oldest_unresolved_at
FROM alerts_unresolved FINAL
GROUP BY brand;
