"""`bench --analytics --fill sql` (pipeline/tools/bench/year_sql.py) against `--fill writer` on the real ClickHouse
server: the same 50,000-mention year filled both ways into two scratch databases has the same shapes (counts,
distinct people, label / complaint / brand / channel shares, the top customer's share, alert statuses, verdicts),
within the tolerances below; the SQL fill leaves what the sink leaves (derived tables kept by the materialized
views, replayed duplicates, alert versions and their actions, clean rollups)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.tools.bench.analytics import fill, tenth_rates
from pipeline.tools.bench.year import BRANDS, CHANNELS, YearShape
from pipeline.tools.bench.year_sql import fill_sql

from .test_clickhouse_schema import fresh_db

pytestmark = pytest.mark.integration

MENTIONS = 50_000
SHAPE = YearShape(mentions=MENTIONS, end=datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc))
#: Absolute tolerance of a share (sd of a share near 0.3 over 50k mentions is 0.002; over 17k alerts 0.004).
SHARE_TOL = 0.015
#: Relative tolerance of a count (alerts ~17k: sd 0.6 %; prospects seen; verdicts ~350: sd 5 %).
COUNT_TOL = {"mentions": 0.0, "mention_rows": 0.0, "customers_seen": 0.05, "prospects_seen": 0.03, "alerts": 0.03,
             "actions": 0.03, "verdicts": 0.25, "customers": 0.0, "customer_identities": 0.0}
#: Wider share tolerances: tiers over 1,000 customers (sd of the gold share 0.011 per fill), and vip alerts, which
#: follow the tier of a few very active (Zipf) customers: the busiest has ~10 % of the customer mentions.
WIDE_TOL = {"gold_share": 0.05, "platinum_share": 0.04, "vip_share": 0.03}


def shape_of(c) -> dict[str, float]:
    """The figures compared: counts (`COUNT_TOL`) and shares (`SHARE_TOL`)."""
    one = lambda sql: c.execute(sql)[0]  # noqa: E731
    out: dict[str, float] = {}
    (out["mentions"], out["customers_seen"], out["prospects_seen"], out["complaint_share"], out["customer_share"],
     out["negative_share"], out["positive_share"], out["neutral_share"]) = one(
        "SELECT count(), uniqExactIf(customer_id, NOT is_prospect), uniqExactIf(customer_id, is_prospect), "
        "avg(is_complaint), avg(NOT is_prospect), avg(sentiment_label = 'negative'), "
        "avg(sentiment_label = 'positive'), avg(sentiment_label = 'neutral') FROM mentions FINAL")
    out["mention_rows"] = one("SELECT count() FROM mentions")[0]
    for brand, share in c.execute("SELECT brand, count() / (SELECT count() FROM mentions FINAL) FROM mentions FINAL "
                                  "GROUP BY brand"):
        out[f"brand_share:{brand}"] = share
    for channel, share in c.execute("SELECT channel, count() / (SELECT count() FROM mentions FINAL) "
                                    "FROM mentions FINAL GROUP BY channel"):
        out[f"channel_share:{channel}"] = share
    out["top_customer_share"] = one(
        "SELECT max(n) / sum(n) FROM (SELECT count() AS n FROM mentions FINAL WHERE NOT is_prospect "
        "GROUP BY customer_id)")[0]
    out["top_prospect_share"] = one(
        "SELECT max(n) / sum(n) FROM (SELECT count() AS n FROM mentions FINAL WHERE is_prospect GROUP BY customer_id)")[0]
    (out["alerts"], out["open_share"], out["acked_share"], out["resolved_share"], out["vip_share"],
     out["repeat_share"]) = one(
        "SELECT count(), avg(status = 'open'), avg(status = 'acked'), avg(status = 'resolved'), "
        "avg(type = 'vip_complaint'), avg(type = 'repeat_complaint') FROM alerts FINAL")
    out["actions"] = one("SELECT count() FROM alert_actions FINAL")[0]
    out["verdicts"] = one("SELECT count() FROM complaint_feedback FINAL")[0]
    out["customers"], out["gold_share"], out["platinum_share"] = one(
        "SELECT count(), avg(tier = 'gold'), avg(tier = 'platinum') FROM customers FINAL")
    out["customer_identities"] = one("SELECT count() FROM identities FINAL WHERE NOT is_prospect")[0]
    return out


@pytest.fixture(scope="module")
def both(clickhouse_settings) -> tuple[dict, dict, dict, dict, object]:
    """The year filled by the writer and by SQL: (writer counts, sql counts, writer shape, sql shape, sql settings)."""
    filled = []
    for name, fill_with in (("t_fill_writer", fill), ("t_fill_sql", lambda *a: fill_sql(*a, rates=tenth_rates))):
        s = fresh_db(clickhouse_settings, name)
        if fill_with is not fill:  # every version the fill writes stays countable (no merge collapses them)
            c = client(s)
            for table in ("mentions", "alerts"):
                c.execute(f"SYSTEM STOP MERGES {table}")
            c.disconnect()
        counts = fill_with(s, SHAPE, False)
        c = client(s)
        try:
            filled.append((counts, shape_of(c), s))
        finally:
            c.disconnect()
    (wc, ws, _), (sc, ss, s) = filled
    print("\nfigure                         writer        sql")  # the comparison, for the report (pytest -s)
    for key in sorted(ws):
        print(f"{key:<28} {ws[key]:>10,.4f} {ss.get(key, float('nan')):>10,.4f}")
    return wc, sc, ws, ss, s


def test_same_shapes_as_the_writer_fill(both):
    _, _, writer, sql, _ = both
    assert set(writer) == set(sql)
    assert {k.split(":")[1] for k in sql if k.startswith("brand_share:")} == set(BRANDS)
    assert {k.split(":")[1] for k in sql if k.startswith("channel_share:")} == set(CHANNELS)
    for key, w in writer.items():
        if key in COUNT_TOL:
            assert abs(sql[key] - w) <= COUNT_TOL[key] * w, (key, w, sql[key])
        else:
            assert abs(sql[key] - w) <= WIDE_TOL.get(key, SHARE_TOL), (key, w, sql[key])


def test_counts_reported_like_the_writer_fill(both):
    wc, sc, _, _, _ = both
    assert set(wc) <= set(sc)
    for key in ("identities", "duplicate_mention_rows"):
        assert sc[key] == wc[key], key
    for key in ("alerts", "alert_actions", "prospects", "duplicate_alert_rows"):
        assert abs(sc[key] - wc[key]) <= 0.06 * wc[key], (key, wc[key], sc[key])


def test_written_state_is_the_sinks(both):
    """Derived tables kept by the views, replays as duplicate versions, alert versions with their actions, clean
    rollups (rebuilt as the refresher would have)."""
    _, sc, _, sql, s = both
    c = client(s)
    try:
        q = lambda sql_: c.execute(sql_)[0]  # noqa: E731
        assert q("SELECT count() FROM mentions_by_customer FINAL")[0] == MENTIONS
        assert q("SELECT count() FROM alerts_by_customer FINAL")[0] == sql["alerts"]
        assert q("SELECT count() FROM alerts_unresolved FINAL")[0] == q(
            "SELECT count() FROM alerts FINAL WHERE status != 'resolved'")[0]
        assert q("SELECT count() FROM identities_by_handle FINAL")[0] == q("SELECT count() FROM identities FINAL")[0]
        # every complaint is an alert; a platinum customer's is a vip alert (year._alert_type)
        assert q("SELECT countIf(is_complaint), countIf(is_complaint AND customer_tier = 'platinum') "
                 "FROM mentions FINAL") == q("SELECT count(), countIf(type = 'vip_complaint') FROM alerts FINAL")
        # replays: the same rows 90 s later; the current version is the replay's (merges of mentions and alerts are
        # stopped in this database: every version written is still stored)
        assert 0 < sc["duplicate_mention_rows"] and q("SELECT count() FROM mentions")[0] == (
            MENTIONS + sc["duplicate_mention_rows"])
        assert q("SELECT countIf(processed_at - created_at > 60) FROM mentions FINAL")[0] == sc["duplicate_mention_rows"]
        # alert versions: open, acked (acked_at), resolved (resolved_at); each state matches its action log
        versions = dict(c.execute("SELECT status, count() FROM alerts GROUP BY status"))
        assert versions["open"] == sql["alerts"] + sc["duplicate_alert_rows"]
        assert versions["acked"] > versions["resolved"] > 0.5 * sql["alerts"]
        assert versions["acked"] + versions["resolved"] == sc["alert_actions"]  # one version per action
        assert q("SELECT countIf(status = 'acked' AND acked_at IS NULL) + countIf(status = 'resolved' AND "
                 "(resolved_at IS NULL OR acked_at IS NULL)) + countIf(status = 'open' AND acked_at IS NOT NULL) "
                 "FROM alerts")[0] == 0
        assert q("""SELECT count() FROM (SELECT alert_id, status FROM alerts FINAL) AS a
                    INNER JOIN (SELECT alert_id, if(countIf(action = 'resolve') > 0, 'resolved', 'acked') AS st
                                FROM alert_actions GROUP BY alert_id) AS s USING alert_id
                    WHERE a.status != s.st""")[0] == 0
        assert q("SELECT countIf(feedback_id = substring(lower(hex(SHA256(concat(alert_id, '\\x1f', mention_id, "
                 "'\\x1f', verdict, '\\x1f', by)))), 1, 32)) = count() FROM complaint_feedback")[0] == 1
        # rollups: every day clean and equal to the base table
        assert q("SELECT countIf(NOT clean), countIf(clean) >= 365 FROM v_rollup_days") == (0, 1)
        assert q("SELECT sum(mentions) FROM mentions_daily FINAL")[0] == MENTIONS
        # many inserts, prospects and customers' prospect links with ids of the same form
        assert q("SELECT countIf(NOT match(customer_id, '^P-[0-9a-f]{16}$')) FROM identities WHERE is_prospect")[0] == 0
        assert q("SELECT count() FROM prospect_links FINAL")[0] == sc["identities"]
    finally:
        c.disconnect()
