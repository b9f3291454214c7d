-- 004_customer_value: customer referral value (CRV) and advocacy beside lifetime value (CLV), per customer and
-- per unlinked prospect, over a window of mention time (docs/customer_value.md explains the formula and why).
--
-- Per mention m of a person (also the mentions a customer made while still a prospect: prospect_links):
--   engagement_m = likes + shares + retweets + comments + replies in m.metadata (numbers > 0, each capped at 10^12,
--                  truncated to an integer; anything else ignored) = pipeline/domain/identity.py engagement_of
--   reach_m      = greatest(m.author_followers, the customer's followers in `customers`) + engagement_m, and 0 on
--                  a private channel (email, support: value.py PRIVATE_CHANNELS; nobody else reads them)
--   strength_m   = abs(m.sentiment_compound)
-- Per person: positive / negative = mentions labelled so; reach = Σ reach_m over all mentions;
--   advocacy       = Σ_positive reach_m − Σ_negative reach_m                          (people reached, net)
--   referral_value = value_per_reached × (Σ_positive reach_m·strength_m − negative_weight × Σ_negative reach_m·strength_m)
--   value_per_reached = referral_conversion × average lifetime_value of the customers with lifetime_value > 0
--
-- The constants are pipeline/domain/value.py REFERRAL_CONVERSION (0.0005) and NEGATIVE_WEIGHT (2.0), the Python
-- reference of this formula; a test checks that both give the same numbers. To change them, change value.py and
-- add a migration with `CREATE OR REPLACE VIEW v_customer_value_between AS …` (this file's statement with the new
-- numbers): applied migration files are never edited. v_customer_value follows by itself.
--
-- Parameterized view; its rows: every customer of `customers` (zeros when it said nothing in the window) and every
-- person with mentions in the window that is not a customer (prospects: is_prospect, lifetime_value 0).
--   SELECT * FROM v_customer_value_between(start = '2026-11-01 00:00:00', end = '2026-12-01 00:00:00')
-- start ≤ created_at < end, UTC. The outer joins rely on join_use_nulls = 0 (a missing side reads as ''/0/NULL), set
-- by the view itself so that a session's setting cannot change its columns.
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
                if(empty(l.customer_id), m.customer_id, l.customer_id)              AS owner,
                arraySum(k -> if(JSONType(m.metadata, k) IN ('Int64', 'UInt64', 'Double')
                                     AND JSONExtractFloat(m.metadata, k) > 0,
                                 toUInt64(least(JSONExtractFloat(m.metadata, k), 1e12)), toUInt64(0)),
                         ['likes', 'shares', 'retweets', 'comments', 'replies']) AS engagement
            FROM
            (
                SELECT channel, customer_id, is_prospect, customer_tier, customer_lifetime_value, sentiment_label,
                       sentiment_compound, influence, created_at, author_followers, metadata
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

-- The same over all time (every date a DateTime64(3) can hold; only a mention dated 9999-12-31 23:59:59.999 falls
-- outside): the formula lives once, in v_customer_value_between.
CREATE OR REPLACE VIEW v_customer_value AS
SELECT *
FROM v_customer_value_between(start = '0001-01-01 00:00:00', end = '9999-12-31 23:59:59.999');
