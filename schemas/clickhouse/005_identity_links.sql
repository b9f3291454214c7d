-- 005_identity_links: the audit log of manual identity links (`socialpulse customers link|unlink`, the dashboard's
-- "link to a customer" on a prospect's page). The link itself travels like a CRM load, as an identity message on
-- `customers.identities` (the worker and the sink apply it); this table records who did what, when.
--
-- Replacing on the whole key only, so that an entry written twice (a retried insert) appears once; it is
-- otherwise an append-only log. `customers erase` deletes the rows of the customer and of its prospect ids.

CREATE TABLE IF NOT EXISTS identity_links
(
    at                   DateTime64(3, 'UTC'),
    action               LowCardinality(String) COMMENT 'link | unlink',
    identity_key         String COMMENT '<channel>:<handle> or email:<address> (personal data)',
    channel              LowCardinality(String),
    customer_id          String COMMENT 'link: the customer the identity now belongs to; unlink: the one it left',
    previous_customer_id String COMMENT 'link: the customer it belonged to before (empty: none, or a prospect)',
    prospect_id          String COMMENT 'the prospect id derived from the identity key',
    `by`                 String COMMENT 'who: --by, the operating-system user, or the dashboard form',
    source               LowCardinality(String) COMMENT 'cli | dashboard',
    INDEX idx_customer_id customer_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (identity_key, at, action)
SETTINGS non_replicated_deduplication_window = 1000;
