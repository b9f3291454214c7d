-- 002_analytics: KPI views (ARCHITECTURE.md "KPI views / MVs"; questions and SQL in docs/queries.md).
--
-- Plain views over `FINAL`, no materialized views, on purpose: an MV sees insert blocks, so a batch replayed with
-- another dedup token (after a crash between insert and offset commit) would be counted twice, while FINAL reads
-- exactly one version per mention. ClickHouse 26.x reads FINAL in parallel and pushes `brand`/time filters into
-- these views, which is plenty at this project's volumes; if it stops being enough, add an AggregatingMergeTree
-- MV next to a view and document it as approximate under replays.

-- One row per mention / alert / customer / identity: the latest version.
CREATE OR REPLACE VIEW v_mentions AS
SELECT * FROM mentions FINAL;

CREATE OR REPLACE VIEW v_alerts_current AS
SELECT * FROM alerts FINAL;

CREATE OR REPLACE VIEW v_customers_current AS
SELECT * FROM customers FINAL;

CREATE OR REPLACE VIEW v_identities_current AS
SELECT * FROM identities FINAL;

-- Hourly sentiment per brand × channel.
CREATE OR REPLACE VIEW v_sentiment_hourly AS
SELECT
    toStartOfHour(created_at)                     AS hour,
    brand,
    channel,
    count()                                       AS mentions,
    avg(sentiment_compound)                       AS avg_compound,
    countIf(sentiment_label = 'negative') / count() AS negative_share,
    countIf(sentiment_label = 'positive') / count() AS positive_share,
    countIf(is_complaint)                         AS complaints
FROM mentions FINAL
GROUP BY hour, brand, channel;

-- Complaint rate per brand and day.
CREATE OR REPLACE VIEW v_complaint_rate AS
SELECT
    toDate(created_at)                      AS day,
    brand,
    count()                                 AS mentions,
    countIf(is_complaint)                   AS complaints,
    countIf(is_complaint) / count()         AS complaint_rate,
    uniqExactIf(customer_id, is_complaint)  AS complaining_authors
FROM mentions FINAL
GROUP BY day, brand;

-- Alerts waiting for someone, per brand: open = not yet acked, acked = someone is on it.
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
FROM alerts FINAL
WHERE status != 'resolved'
GROUP BY brand;

-- Word of mouth per brand and day: how many different people talk, not only how much.
CREATE OR REPLACE VIEW v_word_of_mouth AS
SELECT
    toDate(created_at)                        AS day,
    brand,
    count()                                   AS mentions,
    uniqExact(channel, author)                AS distinct_authors,
    uniqExact(customer_id)                    AS distinct_people,
    uniqExactIf(customer_id, NOT is_prospect) AS distinct_customers,
    uniqExactIf(customer_id, is_prospect)     AS distinct_prospects,
    countIf(in_reply_to = '')                 AS original_posts
FROM mentions FINAL
GROUP BY day, brand;

-- Share of voice per day across the brands mentioned that day (mentions without a brand excluded).
CREATE OR REPLACE VIEW v_share_of_voice AS
SELECT
    day,
    brand,
    mentions,
    sum(mentions) OVER (PARTITION BY day)                    AS all_brands_mentions,
    mentions / all_brands_mentions                           AS share_of_voice,
    positive_mentions,
    negative_mentions
FROM
(
    SELECT
        toDate(created_at)                     AS day,
        brand,
        count()                                AS mentions,
        countIf(sentiment_label = 'positive')  AS positive_mentions,
        countIf(sentiment_label = 'negative')  AS negative_mentions
    FROM mentions FINAL
    WHERE brand != ''
    GROUP BY day, brand
);

-- Community health per brand and day: net sentiment = (positive − negative) / mentions, for customers and
-- prospects separately, and its trend over the 7 days ending that day.
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
FROM
(
    SELECT
        toDate(created_at)                                                    AS day,
        brand,
        count()                                                               AS mentions,
        countIf(sentiment_label = 'positive')                                 AS positive,
        countIf(sentiment_label = 'negative')                                 AS negative,
        countIf(NOT is_prospect)                                              AS customer_mentions,
        countIf(is_prospect)                                                  AS prospect_mentions,
        countIf(sentiment_label = 'positive' AND NOT is_prospect)
            - countIf(sentiment_label = 'negative' AND NOT is_prospect)       AS customer_net,
        countIf(sentiment_label = 'positive' AND is_prospect)
            - countIf(sentiment_label = 'negative' AND is_prospect)           AS prospect_net,
        uniqExactIf(customer_id, NOT is_prospect)                             AS distinct_customers,
        uniqExactIf(customer_id, is_prospect)                                 AS distinct_prospects
    FROM mentions FINAL
    GROUP BY day, brand
)
WINDOW w7 AS (PARTITION BY brand ORDER BY toRelativeDayNum(day) RANGE BETWEEN 6 PRECEDING AND CURRENT ROW);

-- Everything one customer said (on any channel, also while still a prospect) and every alert about them.
-- Parameterized view: SELECT * FROM v_customer_timeline(customer_id = 'C-1') ORDER BY at
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
    FROM mentions FINAL
    WHERE customer_id = {customer_id:String}
       OR customer_id IN (SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = {customer_id:String})
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
    FROM alerts FINAL
    WHERE customer_id = {customer_id:String}
       OR customer_id IN (SELECT prospect_id FROM prospect_links FINAL WHERE customer_id = {customer_id:String})
);
