"""The SQL of complaint feedback (schemas/clickhouse/006_complaint_feedback.sql): what the dashboard needs to record
a verdict (the alert or mention judged), the verdicts shown on cards and timelines, measured alert precision per
brand, and the labelled texts for training. Parameterized (`%(name)s`) only; the latest verdict per alert or
mention wins (`argMax(…, at)`).
"""
from __future__ import annotations

from typing import Final

#: The alert a verdict names: (type, mention_id, customer_id, brand, channel).
ALERT_REF_SQL: Final = """
SELECT type, mention_id, customer_id, brand, channel
FROM alerts FINAL
WHERE alert_id = %(id)s
LIMIT 1
"""

#: The mention a verdict names: (customer_id, brand, channel, is_complaint) of its latest version. No FINAL: the
#: bloom filter on mention_id finds the few granules, ORDER BY picks the latest version.
MENTION_REF_SQL: Final = """
SELECT customer_id, brand, channel, is_complaint
FROM mentions
WHERE mention_id = %(id)s
ORDER BY processed_at DESC
LIMIT 1
"""

#: The latest verdict on each of the alerts `ids`: (alert_id, verdict, by).
ALERT_VERDICTS_SQL: Final = """
SELECT alert_id, argMax(verdict, at) AS latest_verdict, argMax(`by`, at) AS reviewer
FROM complaint_feedback FINAL
WHERE alert_id IN %(ids)s
GROUP BY alert_id
"""

#: The latest verdict on each alert and mention of a person (`ids`: the customer id and its prospect ids):
#: (ref_id, verdict, by), ref_id = the alert id, or the mention id of a verdict on a mention.
PERSON_VERDICTS_SQL: Final = """
SELECT if(alert_id != '', alert_id, mention_id) AS ref_id, argMax(verdict, at) AS latest_verdict,
       argMax(`by`, at) AS reviewer
FROM complaint_feedback FINAL
WHERE customer_id IN %(ids)s
GROUP BY ref_id
"""

#: Measured precision of complaint alerts per brand: (brand, alerts, reviewed, not_complaint) over the complaint
#: alerts (`types`) raised in the last `days` days; reviewed = with a verdict in `verdicts` (not_complaint /
#: complaint), not_complaint = whose latest verdict is not_complaint. Alerts are counted per alert id without
#: FINAL (an alert's brand and type never change between its versions).
PRECISION_SQL: Final = """
SELECT a.brand                                     AS brand,
       count()                                     AS alerts,
       countIf(f.latest_verdict != '')             AS reviewed,
       countIf(f.latest_verdict = 'not_complaint') AS not_complaint
FROM
(
    SELECT alert_id, any(brand) AS brand
    FROM alerts
    WHERE type IN %(types)s AND created_at >= now64(3, 'UTC') - toIntervalDay(%(days)s)
    GROUP BY alert_id
) AS a
LEFT JOIN
(
    SELECT alert_id, argMax(verdict, at) AS latest_verdict
    FROM complaint_feedback FINAL
    WHERE alert_id != '' AND verdict IN %(verdicts)s
    GROUP BY alert_id
) AS f ON f.alert_id = a.alert_id
GROUP BY brand
ORDER BY reviewed DESC, alerts DESC, brand
SETTINGS join_use_nulls = 0
"""

#: Every verdict given since `since` (UTC) with the text of the mention judged: (feedback_id, mention_id, verdict,
#: at, text, brand, channel). Erased mentions drop out (inner join); the latest verdict per mention is picked in
#: Python (pipeline.tools.complaints_feedback), where it is unit-tested.
FEEDBACK_TEXTS_SQL: Final = """
SELECT f.feedback_id, f.mention_id, f.verdict, f.at, m.latest_text, m.latest_brand, m.latest_channel
FROM
(
    SELECT feedback_id, mention_id, verdict, at
    FROM complaint_feedback FINAL
    WHERE mention_id != '' AND at >= %(since)s
) AS f
INNER JOIN
(
    SELECT mention_id, argMax(text, processed_at) AS latest_text, argMax(brand, processed_at) AS latest_brand,
           argMax(channel, processed_at) AS latest_channel
    FROM mentions
    WHERE mention_id IN (SELECT mention_id FROM complaint_feedback WHERE mention_id != '')
    GROUP BY mention_id
) AS m ON m.mention_id = f.mention_id
ORDER BY f.at, f.feedback_id
"""
