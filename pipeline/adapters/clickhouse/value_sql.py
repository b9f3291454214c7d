"""The customer value SQL (schemas/clickhouse/004_customer_value.sql, docs/customer_value.md): the three analyst
questions of queries.py that read `v_customer_value_between`, and the dashboard's advocates / detractors.

Parameters are `%(name)s` placeholders filled by clickhouse-driver; times are UTC strings 'YYYY-MM-DD HH:MM:SS'.
"""
from __future__ import annotations

TOP_ADVOCATES_SQL = """
SELECT
    customer_id,
    is_prospect,
    tier,
    lifetime_value,
    round(referral_value, 2) AS referral_value,
    advocacy,
    positive,
    negative,
    reach,
    last_seen
FROM v_customer_value_between(start = %(start)s, end = %(end)s)
WHERE advocacy > 0
ORDER BY advocacy DESC, referral_value DESC, customer_id
LIMIT %(limit)s
"""

TURNING_DETRACTORS_SQL = """
SELECT
    cur.customer_id                                              AS customer_id,
    cur.tier                                                     AS tier,
    cur.lifetime_value                                           AS lifetime_value,
    prev.advocacy                                                AS advocacy_before,
    cur.advocacy                                                 AS advocacy,
    if(prev.mentions = 0, NULL,
       round((prev.positive - prev.negative) / prev.mentions, 3)) AS net_sentiment_before,
    round((cur.positive - cur.negative) / cur.mentions, 3)       AS net_sentiment,
    round(cur.referral_value, 2)                                 AS referral_value,
    cur.negative                                                 AS negative_mentions,
    cur.last_seen                                                AS last_seen
FROM v_customer_value_between(start = %(start)s, end = %(end)s) AS cur
INNER JOIN v_customer_value_between(start = %(previous_start)s, end = %(start)s) AS prev
    ON prev.customer_id = cur.customer_id
WHERE NOT cur.is_prospect AND cur.mentions > 0
  AND (cur.lifetime_value >= %(min_lifetime_value)s OR cur.tier IN %(tiers)s)
  AND ((cur.advocacy < 0 AND prev.advocacy >= 0) OR cur.advocacy <= prev.advocacy - %(min_drop)s)
ORDER BY lifetime_value DESC, advocacy, customer_id
"""

QUADRANT_SQL = """
SELECT
    multiIf(high_clv AND high_crv, 'champions', high_clv, 'affluents', high_crv, 'advocates', 'misers') AS quadrant,
    count()                                                                       AS customers,
    round(sum(lifetime_value), 2)                                                 AS total_lifetime_value,
    round(sum(referral_value), 2)                                                 AS total_referral_value,
    sum(advocacy)                                                                 AS total_advocacy,
    arraySlice(arrayMap(x -> x.2, arrayReverseSort(groupArray((total_value, customer_id)))), 1, 5) AS top_customers,
    round(any(clv_at), 2)                                                         AS clv_split,
    round(any(crv_at), 2)                                                         AS crv_split
FROM
(
    SELECT
        customer_id, lifetime_value, referral_value, advocacy,
        lifetime_value + referral_value                                         AS total_value,
        ifNull(%(clv_split)s, medianExact(lifetime_value) OVER ())              AS clv_at,
        ifNull(%(crv_split)s, greatest(0, medianExact(referral_value) OVER ())) AS crv_at,
        lifetime_value > clv_at                                                 AS high_clv,
        referral_value > crv_at                                                 AS high_crv
    FROM v_customer_value_between(start = %(start)s, end = %(end)s)
    WHERE NOT is_prospect
)
GROUP BY quadrant
ORDER BY indexOf(['champions', 'affluents', 'advocates', 'misers'], quadrant)
"""

#: The dashboard's advocates and detractors over a period (the last `days` days: start = now − days, end = now):
#: up to `limit` people with advocacy > 0, largest first, then up to `limit` with advocacy < 0, most negative
#: first; prospects included. Columns: customer_id, is_prospect, tier, lifetime_value, referral_value, advocacy,
#: mentions, positive, negative, reach.
ADVOCATES_SQL = """
SELECT customer_id, is_prospect, tier, lifetime_value, referral_value, advocacy, mentions, positive, negative, reach
FROM v_customer_value_between(start = %(start)s, end = %(end)s)
WHERE advocacy != 0
ORDER BY advocacy > 0 DESC, abs(advocacy) DESC, abs(referral_value) DESC, customer_id
LIMIT %(limit)s BY advocacy > 0
"""
