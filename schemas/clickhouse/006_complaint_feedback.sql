-- 006_complaint_feedback: what people said about the complaint model (docs/operations.md, "Complaint feedback").
-- "Not a complaint" / "Is a complaint" on an alert card and "Missed complaint" on a mention of the customer page
-- travel as verdict actions on `alerts.actions` (AlertAction.action = the verdict); the sink writes them here.
--
-- One row per (alert, mention, verdict, person): feedback_id is derived from them (pipeline/domain/feedback.py),
-- so an action delivered twice, or clicked twice, is one row (the latest `at`); another verdict or another person
-- is another row, and readers take the latest verdict per alert or mention. No partitioning on purpose: two
-- versions of one feedback_id must meet in one part to be replaced. The mention's text stays in `mentions`
-- (join on mention_id). `customers erase` deletes the rows of the customer and of its prospect ids.

CREATE TABLE IF NOT EXISTS complaint_feedback
(
    feedback_id String COMMENT 'hash of (alert_id, mention_id, verdict, by)',
    at          DateTime64(3, 'UTC') COMMENT 'when the verdict was given',
    verdict     LowCardinality(String) COMMENT 'not_complaint | complaint | missed_complaint',
    alert_id    String COMMENT 'the alert judged; empty for a verdict on a mention (missed_complaint)',
    mention_id  String COMMENT 'the mention judged (for an alert: its mention)',
    customer_id String COMMENT 'customer or prospect id of the mention',
    brand       LowCardinality(String),
    channel     LowCardinality(String),
    `by`        String COMMENT 'who: the On shift name, or dashboard',
    INDEX idx_alert_id alert_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_mention_id mention_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_customer_id customer_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(at)
ORDER BY feedback_id
SETTINGS non_replicated_deduplication_window = 1000;
