"""`socialpulse bench --analytics` without a server: the synthetic year (determinism, shapes, chunking, rows the
sink's column builders accept), the call catalogue, the timing and the report."""
from __future__ import annotations

import collections
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from pipeline.adapters.clickhouse.columns import (ALERT_COLUMNS, MENTION_COLUMNS, action_columns, alert_columns,
                                                  customer_columns, feedback_columns, identity_columns,
                                                  mention_columns, parse_ts, prospect_columns, wire_columns)
from pipeline.adapters.clickhouse.queries import QUERIES
from pipeline.contract.records import EnrichedMention
from pipeline.domain.identity import is_prospect_id
from pipeline.tools.bench.analytics import AnalyticsResult, CallTiming, render_analytics, timed
from pipeline.tools.bench.analytics_calls import (ANALYST, CUSTOMER_PAGE, DASHBOARD, analyst_calls,
                                                  customer_page_calls, dashboard_calls, shift_examples)
from pipeline.tools.bench.year import (BRANDS, CHANNELS, YearShape, customer_identities, generate_batch,
                                       iter_batches, replay_copy, replayed_batches)

END = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def year() -> tuple[YearShape, list]:
    shape = YearShape(mentions=30_000, end=END, batch_size=1000)
    return shape, list(iter_batches(shape))


def test_batches_are_a_function_of_the_shape_and_index():
    shape = YearShape(mentions=5000, end=END, batch_size=1000)
    again = YearShape(mentions=5000, end=END, batch_size=1000)
    assert msgspec.json.encode(generate_batch(shape, 3).mentions) == msgspec.json.encode(
        generate_batch(again, 3).mentions)
    # chunking: any batch alone equals the same batch of a full pass, so a run never needs the year in memory
    full = list(iter_batches(shape))
    assert [b.index for b in full] == [0, 1, 2, 3, 4]
    assert msgspec.json.encode(full[2].alerts) == msgspec.json.encode(generate_batch(shape, 2).alerts)
    # another seed is another year
    assert generate_batch(YearShape(mentions=5000, end=END, batch_size=1000, seed=7), 3).mentions[0].mention_id \
        != full[3].mentions[0].mention_id


def test_counts_and_the_last_partial_batch():
    shape = YearShape(mentions=2500, end=END, batch_size=1000)
    sizes = [len(b.mentions) for b in iter_batches(shape)]
    assert sizes == [1000, 1000, 500] and shape.batches == 3
    assert shape.customers == 50 and shape.prospects == 100


def test_shapes_of_the_year(year):
    shape, batches = year
    mentions = [m for b in batches for m in b.mentions]
    alerts = [a for b in batches for a in b.alerts]
    assert len(mentions) == 30_000 and len({m.mention_id for m in mentions}) == 30_000
    times = [parse_ts(m.created_at) for m in mentions]
    assert shape.start <= min(times) and max(times) < END
    assert len({t.date() for t in times}) >= 360  # the whole year is covered
    hours = collections.Counter(t.hour for t in times)
    assert hours[19] > 3 * hours[3]  # diurnal: evenings busier than nights
    labels = collections.Counter(m.sentiment.label for m in mentions)
    assert 0.27 < labels["negative"] / len(mentions) < 0.33
    by_customer = sum(not m.is_prospect for m in mentions) / len(mentions)
    assert 0.30 < by_customer < 0.37
    assert all(is_prospect_id(m.customer_id) == m.is_prospect for m in mentions)
    assert set(m.brand for m in mentions) == set(BRANDS) and set(m.channel for m in mentions) == set(CHANNELS)
    # Zipf-like activity: the most active author writes far more than the median one
    per_author = sorted(collections.Counter((m.channel, m.author) for m in mentions).values(), reverse=True)
    assert per_author[0] > 20 * per_author[len(per_author) // 2]
    # about a third as many alerts as mentions, each pointing at a complaint mention of the year
    assert 0.28 < len(alerts) / len(mentions) < 0.40
    ids = {m.mention_id: m for m in mentions}
    assert all(ids[a.mention_id].complaint.is_complaint for a in alerts)
    assert len({a.alert_id for a in alerts}) == len(alerts)
    actions = [x for b in batches for x in b.actions]
    assert {x.action for x in actions} == {"ack", "resolve"}
    assert all(parse_ts(x.at) < END for x in actions)
    assert {v.action for b in batches for v in b.verdicts} <= {"complaint", "not_complaint"}


def test_rows_fit_the_sink_column_builders(year):
    shape, batches = year
    b = batches[0]
    cols = wire_columns(mention_columns(b.mentions))
    assert len(cols) == len(MENTION_COLUMNS) and all(len(c) == len(b.mentions) for c in cols)
    assert len(wire_columns(alert_columns(b.alerts))) == len(ALERT_COLUMNS)
    assert action_columns(b.actions) and feedback_columns(b.verdicts or batches[1].verdicts)
    assert prospect_columns(b.prospects)[0]
    items = customer_identities(shape, 0, 100, "2025-12-07T12:00:00.000Z")
    assert len({i.customer_id for _, i in items}) == 100 and len(items) > 100  # some have two handles
    assert identity_columns(dict(items)) and customer_columns([i for _, i in items])
    # a mention's customer id is the CRM's for the handle it was written from
    crm = {key: ident.customer_id for key, ident in customer_identities(shape, 0, shape.customers, "x")}
    from pipeline.domain.identity import author_key

    known = [m for bt in batches for m in bt.mentions if not m.is_prospect]
    assert all(crm[author_key(m.channel, m.author)] == m.customer_id for m in known)
    for m in b.mentions[:50]:  # the records survive the topic codec as the sink decodes them
        assert msgspec.json.decode(msgspec.json.encode(m), type=EnrichedMention) == m


def test_replays_are_new_versions_of_the_same_rows():
    shape = YearShape(mentions=200_000, end=END, batch_size=2000)
    chosen = replayed_batches(shape)
    assert len(chosen) == 2 and all(0 <= b < shape.batches for b in chosen)  # 2 % of 100 batches
    assert replayed_batches(YearShape(mentions=3000, end=END, batch_size=1000)) == {1}  # at least one
    assert replayed_batches(YearShape(mentions=3000, end=END, duplicate_share=0)) == frozenset()
    batch = generate_batch(shape, 0)
    copy = replay_copy(batch)
    assert [m.mention_id for m in copy] == [m.mention_id for m in batch.mentions]
    for a, b in zip(batch.mentions, copy):
        assert parse_ts(b.processed_at) - parse_ts(a.processed_at) == timedelta(seconds=90)
        assert msgspec.structs.replace(b, processed_at=a.processed_at) == a


def test_call_catalogue_covers_the_pages_and_every_question():
    now = END
    dash = dashboard_calls(now, "acme", ["a1", "a2"])
    assert {c.group for c in dash} == {DASHBOARD} and len(dash) >= 10
    assert any("kpis" in c.name for c in dash) and any("sentiment" in c.name for c in dash)
    page = customer_page_calls("customer", "C-1", ["P-2"], "bob")
    assert {c.group for c in page} == {CUSTOMER_PAGE} and len(page) == 11
    assert next(c for c in page if c.name.endswith("stats")).params["ids"] == ("C-1", "P-2")
    analyst = analyst_calls(now, "acme", "C-1")
    assert [c.name for c in analyst] == [q.name for q in QUERIES] and {c.group for c in analyst} == {ANALYST}
    timeline = next(c for c in analyst if c.name == "customer_timeline")
    assert timeline.params["customer_id"] == "C-1"
    advocates = next(c for c in analyst if c.name == "top_advocates")
    assert advocates.params["end"] == "2026-12-07 00:00:00"  # the examples end on the year's last day


def test_shift_examples_keeps_lengths_and_other_values():
    shifted = shift_examples({"start": "2026-11-01 00:00:00", "end": "2026-12-01 00:00:00", "limit": 10,
                              "brand": "acme"}, datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert shifted == {"start": "2026-12-02 00:00:00", "end": "2027-01-01 00:00:00", "limit": 10, "brand": "acme"}


def test_timed_discards_the_warm_up():
    calls = []

    def fn():
        calls.append(1)
        return [(1,), (2,)]

    p50, p95, rows, runs = timed(fn, 5)
    assert len(calls) == 5 and runs == 4 and rows == 2 and 0 <= p50 <= p95
    assert timed(lambda: {"a": 1}, 1)[2:] == (1, 1)  # at least one timed run; a page (dict) counts as one row


def test_render_and_json_contract():
    call = CallTiming(group="analyst", name="share_of_voice", p50_ms=12.25, p95_ms=20.0, rows=20, runs=4)
    r = AnalyticsResult(
        mentions=1000, alerts=340, alert_actions=600, verdicts=5, customers=20, identities=27, prospects=35,
        batches=1, replayed_batches=1, duplicate_mention_rows=1000, duplicate_alert_rows=340,
        mention_rows_stored=2000, mentions_distinct=1000, alert_rows_stored=900, alerts_distinct=340,
        mention_parts=3, alert_parts=4, fill_seconds=1.0, fill_mentions_per_s=1000.0, repeat=5, customer_id="C-1",
        prospect_id="P-1", year_start="a", year_end="b", calls=[call], pages=[], machine="m", measured_at="t")
    text = render_analytics(r)
    assert "| analyst | share_of_voice | 12.2 | 20.0 | 20 |" in text and "1,000 mentions" in text
    data = msgspec.json.decode(msgspec.json.encode(r))
    assert {"mentions", "alerts", "duplicate_mention_rows", "mentions_distinct", "calls", "pages", "repeat",
            "fill_seconds"} <= set(data)
    assert set(data["calls"][0]) == {"group", "name", "p50_ms", "p95_ms", "rows", "runs"}


class _FakeWriter:
    """Stands in for ClickHouseWriter: counts the rows it is given; fails on the mention insert of one batch."""

    def __init__(self, settings, fail_token: str = ""):
        self.fail_token, self.tokens = fail_token, []

    def insert_mentions(self, rows, token):
        self.tokens.append(token)
        if token == self.fail_token:
            raise RuntimeError("ClickHouse said no")
        return len(rows)

    def upsert_identities(self, items, token):
        return len(items)

    def insert_alerts(self, rows, token):
        return len(rows)

    upsert_prospects = apply_actions = insert_feedback = insert_alerts

    def close(self):
        pass


def test_fill_writes_every_batch_and_its_replays(monkeypatch):
    from pipeline.adapters.clickhouse import writer as writer_module
    from pipeline.tools.bench.analytics import fill

    made = []
    monkeypatch.setattr(writer_module, "ClickHouseWriter", lambda s: made.append(_FakeWriter(s)) or made[-1])
    shape = YearShape(mentions=6000, end=END, batch_size=1000)
    counts = fill(None, shape, progress=False)
    tokens = made[0].tokens
    assert len(tokens) == 6 + 1 and sum(t.endswith("-replay") for t in tokens) == 1
    assert counts["duplicate_mention_rows"] == 1000 and counts["identities"] > shape.customers
    assert counts["alerts"] == sum(len(b.alerts) for b in iter_batches(shape))


def test_a_failed_insert_stops_the_fill(monkeypatch):
    from pipeline.adapters.clickhouse import writer as writer_module
    from pipeline.tools.bench.analytics import fill

    made = []
    monkeypatch.setattr(writer_module, "ClickHouseWriter",
                        lambda s: made.append(_FakeWriter(s, "year-25-2")) or made[-1])
    with pytest.raises(RuntimeError, match="said no"):
        fill(None, YearShape(mentions=200_000, end=END, batch_size=1000), progress=False)
    assert len(made[0].tokens) < 20  # the other writer and the generator gave up, not 200 batches later


def test_tenth_rates_of_a_fill_that_slows_down():
    from pipeline.tools.bench.analytics import tenth_rates

    # 100 mentions per batch: 1 s each over the first tenth, 4 s each over the last
    marks, t = [(0.0, 0)], 0.0
    for b in range(1, 101):
        t += 1.0 if b <= 50 else 4.0
        marks.append((t, b * 100))
    assert tenth_rates(marks) == (100.0, 25.0)
    assert tenth_rates([(0.0, 0)]) == (0.0, 0.0)
