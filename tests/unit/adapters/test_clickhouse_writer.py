"""ClickHouse sink without a server: record → column mapping (columns.py), error classification (errors.py),
retry/outage behaviour of the writer with a fake client (writer.py), migration file handling, and docs/queries.md
kept in sync with pipeline/adapters/clickhouse/queries.py."""
from __future__ import annotations

import re

import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from clickhouse_driver import errors as ch_errors

from pipeline.domain.identity import influence, prospect_id
from pipeline.adapters.clickhouse.migrations import (MigrationError, migration_files, quote_database, split_statements)
from pipeline.adapters.clickhouse.queries import QUERIES, queries_markdown
from pipeline.contract.records import (Alert, AlertAction, ComplaintInfo, CustomerContext, EnrichedMention, Identity,
                              PriorComplaints)
from pipeline.adapters.clickhouse import columns, errors
from pipeline.adapters.clickhouse import writer as sink
from pipeline.domain.sentiment import Sentiment
from pipeline.settings import Settings
from pipeline.adapters.clickhouse.columns import (ACTION_COLUMNS, ALERT_COLUMNS, CUSTOMER_COLUMNS, IDENTITY_COLUMNS,
                                                  LINK_COLUMNS, MENTION_COLUMNS, AlertState)
from pipeline.adapters.clickhouse.writer import ClickHouseWriter, Outage, WriterStopped

UTC = timezone.utc
ROOT = Path(__file__).resolve().parents[3]


def mention(i: int = 1, **kw) -> EnrichedMention:
    base = dict(mention_id=f"twitter:{i}", id=str(i), channel="twitter", author="bob", text="refund now",
                created_at="2026-11-16T10:00:00Z", sentiment=Sentiment(-0.5, 0.0, 0.5, 0.5, "negative"),
                customer_id="C-1", is_prospect=False,
                customer=CustomerContext(tier="gold", lifetime_value=1200.5, influence=0.25),
                complaint=ComplaintInfo(is_complaint=True, score=0.75, cues=["refund", "now"]),
                processed_at="2026-11-16T10:00:01.250+01:00")
    base.update(kw)
    return EnrichedMention(**base)


def alert(alert_id: str = "A-1", **kw) -> Alert:
    base = dict(alert_id=alert_id, type="complaint", severity="high", reasons=["complaint score 0.75"],
                mention_id="twitter:1", customer_id="C-1", brand="acme", channel="twitter", text="refund now",
                sentiment=Sentiment(-0.5, 0.0, 0.5, 0.5, "negative"),
                prior_complaints=PriorComplaints(count=2, window_days=30), channels_complained_on=["twitter", "email"],
                created_at="2026-11-16T10:00:00Z")
    base.update(kw)
    return Alert(**base)


def as_dict(names, cols, i=0):
    return {n: col[i] for n, col in zip(names, cols)}


# --- timestamps ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2026-11-16T10:00:00Z", datetime(2026, 11, 16, 10, tzinfo=UTC)),
    ("2026-11-16T10:00:00.123Z", datetime(2026, 11, 16, 10, 0, 0, 123000, tzinfo=UTC)),
    ("2026-11-16T12:00:00+02:00", datetime(2026, 11, 16, 10, tzinfo=UTC)),
    ("2026-11-16T05:30:00-04:30", datetime(2026, 11, 16, 10, tzinfo=UTC)),
    ("2026-11-16T10:00:00", datetime(2026, 11, 16, 10, tzinfo=UTC)),
    ("2026-11-16 10:00:00+00:00", datetime(2026, 11, 16, 10, tzinfo=UTC)),
])
def test_parse_ts_returns_aware_utc(text, expected):
    got = columns.parse_ts(text)
    assert got == expected and got.utcoffset() == timedelta(0)


def test_wire_columns_turn_datetimes_into_exact_millisecond_ticks():
    at = datetime(2026, 11, 16, 10, 0, 0, 999000, tzinfo=UTC)
    cols = [["a", "b"], [None, at], [datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC), at], [[], ["x"]]]
    wired = columns.wire_columns(cols)
    assert wired == [["a", "b"], [None, 1_794_823_200_999], [1, 1_794_823_200_999], [[], ["x"]]]
    assert wired[0] is not cols[0] and cols[1][1] is at  # a copy: the input is left as it was


def test_parse_ts_rejects_garbage():
    with pytest.raises(ValueError):
        columns.parse_ts("yesterday")


# --- mentions --------------------------------------------------------------------------------------------------

def test_mention_columns_shape_and_values():
    cols = columns.mention_columns([mention(1, brand="acme", metadata={"likes": 3}, author_followers=42,
                                            author_email="bob@example.com", lang="en"), mention(2)])
    assert len(cols) == len(MENTION_COLUMNS) and all(len(c) == 2 for c in cols)
    assert all(isinstance(c, list) for c in cols)
    row = as_dict(MENTION_COLUMNS, cols)
    assert row["mention_id"] == "twitter:1" and row["source_id"] == "1"
    assert row["brand"] == "acme" and row["metadata"] == '{"likes":3}' and row["author_followers"] == 42
    assert row["created_at"] == datetime(2026, 11, 16, 10, tzinfo=UTC)
    assert row["processed_at"] == datetime(2026, 11, 16, 9, 0, 1, 250000, tzinfo=UTC)
    assert (row["sentiment_compound"], row["sentiment_label"]) == (-0.5, "negative")
    assert (row["customer_tier"], row["customer_lifetime_value"], row["influence"]) == ("gold", 1200.5, 0.25)
    assert row["is_complaint"] is True and row["complaint_cues"] == ["refund", "now"]
    assert row["is_prospect"] is False and row["schema_version"] == 1


def test_mention_columns_absent_optionals_are_empty():
    row = as_dict(MENTION_COLUMNS, columns.mention_columns([mention()]))
    for name in ("brand", "url", "lang", "author_name", "author_email", "in_reply_to", "metadata"):
        assert row[name] == "", name
    assert row["author_followers"] == 0


def test_empty_batch_gives_empty_columns_of_the_right_width():
    assert columns.mention_columns([]) == [[] for _ in MENTION_COLUMNS]
    assert columns.alert_columns([]) == [[] for _ in ALERT_COLUMNS]


# --- alerts and actions ----------------------------------------------------------------------------------------

def test_alert_columns_default_open_and_customer_context():
    at = datetime(2026, 11, 16, 11, tzinfo=UTC)
    cols = columns.alert_columns([alert(customer=CustomerContext(tier="gold", lifetime_value=5.0, influence=0.5),
                                        complaint_score=0.75)], updated_at=at)
    row = as_dict(ALERT_COLUMNS, cols)
    assert (row["status"], row["assignee"], row["acked_at"], row["resolved_at"]) == ("open", "", None, None)
    assert row["updated_at"] == at and row["created_at"] == datetime(2026, 11, 16, 10, tzinfo=UTC)
    assert (row["prior_complaints"], row["prior_window_days"]) == (2, 30)
    assert row["channels_complained_on"] == ["twitter", "email"]
    assert (row["customer_tier"], row["customer_lifetime_value"], row["influence"]) == ("gold", 5.0, 0.5)
    assert row["complaint_score"] == 0.75 and row["brand"] == "acme"


def test_alert_columns_spike_context():
    from pipeline.contract.records import AlertMention

    spike = alert("spike:1", window_start="2026-11-16T09:00:00.000Z", count=40, baseline_mean=2.0, threshold=8.5,
                  top_mentions=[AlertMention(mention_id="twitter:9", text="down again", sentiment_compound=-0.8)])
    row = as_dict(ALERT_COLUMNS, columns.alert_columns([spike, alert("A-1")]), 0)
    assert row["window_start"] == datetime(2026, 11, 16, 9, tzinfo=UTC)
    assert row["top_mentions"] == [("twitter:9", "down again", -0.8)]
    other = as_dict(ALERT_COLUMNS, columns.alert_columns([alert("A-1")]), 0)
    assert other["window_start"] is None and other["top_mentions"] == []


def test_alert_columns_take_state_from_actions():
    acked = datetime(2026, 11, 16, 10, 5, tzinfo=UTC)
    states = {"A-2": AlertState("acked", "ann", acked, None)}
    cols = columns.alert_columns([alert("A-1"), alert("A-2", brand=None, is_prospect=True)], states)
    first, second = as_dict(ALERT_COLUMNS, cols, 0), as_dict(ALERT_COLUMNS, cols, 1)
    assert first["status"] == "open"
    assert (second["status"], second["assignee"], second["acked_at"]) == ("acked", "ann", acked)
    assert second["brand"] == "" and second["customer_tier"] == "prospect"


def test_action_columns_fill_missing_time():
    now = datetime(2026, 11, 16, 12, tzinfo=UTC)
    cols = columns.action_columns([AlertAction(alert_id="A-1", action="ack", by="ann"),
                                   AlertAction(alert_id="A-1", action="assign", by="ann", assignee="bo",
                                               note="call back", at="2026-11-16T10:00:00Z")], now=now)
    assert len(cols) == len(ACTION_COLUMNS)
    assert as_dict(ACTION_COLUMNS, cols, 0) == {"alert_id": "A-1", "action": "ack", "by": "ann", "assignee": "",
                                                 "note": "", "at": now}
    assert as_dict(ACTION_COLUMNS, cols, 1)["at"] == datetime(2026, 11, 16, 10, tzinfo=UTC)


def test_reconcile_sql_writes_every_alert_column_and_takes_state_from_actions():
    sql = columns.RECONCILE_ALERTS_SQL
    for c in ALERT_COLUMNS:
        assert f"`{c}`" in sql
    for c in columns.ALERT_STATE_COLUMNS:
        assert f"s.{c}" in sql
    assert "%(ids)s" in sql and "FINAL" in sql


# --- identities, customers, prospects --------------------------------------------------------------------------

def ident(key: str, cid: str = "C-1", **kw) -> Identity:
    return Identity(key=key, customer_id=cid, **kw)


def test_compact_identities_last_message_per_key_wins():
    a1, a2, b = ident("twitter:a", "C-1"), ident("twitter:a", "C-2"), ident("email:b@example.com")
    sets, tombstones = columns.compact_identities([("twitter:a", a1), ("email:b@example.com", b),
                                                   ("twitter:a", None), ("twitter:a", a2),
                                                   ("email:b@example.com", None)])
    assert sets == {"twitter:a": a2} and tombstones == ["email:b@example.com"]


def test_split_identity_key():
    assert columns.split_identity_key("twitter:bob") == ("twitter", "bob")
    assert columns.split_identity_key("email:a:b@example.com") == ("email", "a:b@example.com")
    assert columns.split_identity_key("nokey") == ("", "nokey")


def test_identity_and_customer_columns():
    now = datetime(2026, 11, 16, 12, tzinfo=UTC)
    sets = {"twitter:bob": ident("twitter:bob", "C-1", tier="gold", lifetime_value=10.0, followers=10_000,
                                 name="Bob", updated_at="2026-11-01T00:00:00Z"),
            "email:bob@example.com": ident("email:bob@example.com", "C-1", tier="platinum", lifetime_value=20.0,
                                           name="Bob B", updated_at="2026-11-02T00:00:00Z"),
            "twitter:eve": ident("twitter:eve", "C-2")}
    icols = columns.identity_columns(sets, now)
    assert len(icols) == len(IDENTITY_COLUMNS)
    assert as_dict(IDENTITY_COLUMNS, icols, 1) == {
        "identity_key": "email:bob@example.com", "channel": "email", "handle": "bob@example.com",
        "customer_id": "C-1", "is_prospect": False, "updated_at": datetime(2026, 11, 2, tzinfo=UTC)}
    assert as_dict(IDENTITY_COLUMNS, icols, 2)["updated_at"] == now
    ccols = columns.customer_columns(sets.values(), now)
    assert len(ccols) == len(CUSTOMER_COLUMNS) and ccols[0] == ["C-1", "C-2"]
    c1 = as_dict(CUSTOMER_COLUMNS, ccols, 0)
    assert (c1["name"], c1["tier"], c1["lifetime_value"]) == ("Bob B", "platinum", 20.0)  # the newest wins
    assert c1["influence"] == influence(None)
    c2 = as_dict(CUSTOMER_COLUMNS, ccols, 1)
    assert (c2["followers"], c2["tier"], c2["updated_at"]) == (0, "standard", now)


def test_prospect_and_link_columns():
    now = datetime(2026, 11, 16, tzinfo=UTC)
    pid = prospect_id("twitter:dave")
    cols = columns.prospect_columns([("twitter:dave", pid), ("twitter:dave", pid)], now)
    assert cols == [["twitter:dave"], ["twitter"], ["dave"], [pid], [True], [now]]
    links = columns.link_columns([("P-1", "C-1"), ("P-1", "C-2"), ("P-2", "C-1")], now)
    assert len(links) == len(LINK_COLUMNS) and links[:2] == [["P-1", "P-2"], ["C-2", "C-1"]]


def test_batch_token_is_stable_and_order_independent():
    a = sink.batch_token("mentions", {("mentions.enriched", 1): (10, 20), ("mentions.enriched", 0): (5, 9)})
    b = sink.batch_token("mentions", {("mentions.enriched", 0): (5, 9), ("mentions.enriched", 1): (10, 20)})
    assert a == b == "mentions|mentions.enriched/0:5-9,mentions.enriched/1:10-20"
    assert a != sink.batch_token("alerts", {("mentions.enriched", 0): (5, 9), ("mentions.enriched", 1): (10, 20)})


# --- error classification --------------------------------------------------------------------------------------

@pytest.mark.parametrize("exc, transient", [
    (ch_errors.NetworkError("Connection refused"), True),
    (ch_errors.SocketTimeoutError("timed out"), True),
    (ConnectionResetError(104, "reset"), True),
    (EOFError("Unexpected EOF while reading bytes"), True),
    (ch_errors.ServerException("Too many parts", code=252), True),
    (ch_errors.ServerException("Memory limit", code=241), True),
    (ch_errors.ServerException("Table does not exist", code=60), True),
    (ch_errors.ServerException("Syntax error", code=62), False),
    (ch_errors.ServerException("Type mismatch", code=53), False),
    (ValueError("bad"), False),
    (TypeError("bad"), False),
])
def test_is_transient(exc, transient):
    assert errors.is_transient(exc) is transient


def test_describe_error_is_one_line_without_addresses():
    text = errors.describe_error(ch_errors.ServerException("Bad value alice@example.com\nstack trace", code=27))
    assert "alice@example.com" not in text and "\n" not in text and "<email>" in text


# --- retry / outage with a fake client -------------------------------------------------------------------------

class FakeClient:
    """Fails with the queued exceptions, then succeeds; records what it was asked to run."""

    def __init__(self, failures=(), always_fail=None):
        self.failures = list(failures)
        self.always_fail = always_fail
        self.calls: list[tuple] = []
        self.disconnects = 0

    def execute(self, sql, params=None, **kw):
        self.calls.append((sql, params, kw))
        if self.always_fail is not None:
            raise self.always_fail
        if self.failures:
            raise self.failures.pop(0)
        return []

    def disconnect(self):
        self.disconnects += 1


def fast_settings() -> Settings:
    return Settings(sink_retry_max_backoff=0.01)


def sink_records(caplog, level):
    return [r for r in caplog.records if r.name == "pipeline.adapters.clickhouse.writer" and r.levelno == level]


def test_outage_is_retried_logged_once_and_rows_are_written(caplog):
    caplog.set_level(logging.INFO, logger="pipeline.adapters.clickhouse.writer")
    fake = FakeClient([ch_errors.NetworkError("Connection refused")] * 3
                      + [ch_errors.ServerException("Too many parts", code=252)])
    events: list[Outage] = []
    w = ClickHouseWriter(fast_settings(), on_outage=events.append, client_factory=lambda: fake)
    assert w.insert_mentions([mention(1), mention(2)], "tok-1") == 2
    assert len(fake.calls) == 5 and fake.disconnects == 4
    for sql, wired, kw in fake.calls:
        assert sql == columns.INSERT_MENTIONS
        assert kw["columnar"] is True and kw["settings"] == {"insert_deduplication_token": "mentions/tok-1"}
        assert wired == columns.wire_columns(columns.mention_columns([mention(1), mention(2)]))  # same rows each time
    assert len(sink_records(caplog, logging.WARNING)) == 1
    assert len(sink_records(caplog, logging.INFO)) == 1
    assert [(e.active, e.rows_held) for e in events] == [(True, 2), (False, 2)]
    assert not w.in_outage


def test_non_transient_error_is_raised_at_once():
    fake = FakeClient([ch_errors.ServerException("Syntax error", code=62)])
    w = ClickHouseWriter(fast_settings(), client_factory=lambda: fake)
    with pytest.raises(ch_errors.ServerException):
        w.insert_mentions([mention()], "tok")
    assert len(fake.calls) == 1


def test_stop_makes_a_blocked_retry_loop_raise(caplog):
    caplog.set_level(logging.INFO, logger="pipeline.adapters.clickhouse.writer")
    fake = FakeClient(always_fail=ch_errors.NetworkError("Connection refused"))
    w = ClickHouseWriter(Settings(sink_retry_max_backoff=0.05), client_factory=lambda: fake)
    timer = threading.Timer(0.3, w.stop)
    timer.start()
    with pytest.raises(WriterStopped):
        w.insert_mentions([mention()], "tok")
    timer.join()
    assert len(fake.calls) > 2
    assert len(sink_records(caplog, logging.WARNING)) == 1 and not sink_records(caplog, logging.INFO)


def test_empty_batches_do_not_touch_the_server():
    fake = FakeClient(always_fail=AssertionError("must not be called"))
    w = ClickHouseWriter(fast_settings(), client_factory=lambda: fake)
    assert w.insert_mentions([], "t") == w.insert_alerts([], "t") == w.apply_actions([], "t") == 0
    assert w.upsert_identities([], "t") == w.upsert_prospects([], "t") == w.link_prospects([], "t") == 0
    assert fake.calls == []


def test_tombstones_become_one_parameterized_delete():
    fake = FakeClient()
    w = ClickHouseWriter(fast_settings(), client_factory=lambda: fake)
    assert w.upsert_identities([("twitter:a", None), ("email:b@example.com", None)], "t") == 2
    pids = (prospect_id("twitter:a"), prospect_id("email:b@example.com"))
    keys = ("twitter:a", "email:b@example.com")
    assert fake.calls[0] == (columns.DELETE_IDENTITIES, {"keys": keys}, {})
    # the handle-ordered copy, found by its key (handle, identity key)
    assert fake.calls[1][0] == columns.DELETE_IDENTITIES_BY_HANDLE
    assert sorted(fake.calls[1][1]["handles"]) == ["a", "b@example.com"] and fake.calls[1][1]["keys"] == keys
    assert fake.calls[2] == (columns.DELETE_PROSPECT_LINKS, {"ids": pids}, {})  # the handle's past goes back


# --- migrations (files only) -----------------------------------------------------------------------------------

def test_split_statements_on_line_end_semicolons_ignoring_comments():
    sql = "-- header; not a statement;\nCREATE TABLE a (x String COMMENT 'a;b')\nENGINE = Memory;\n\n" \
          "  -- another;\nCREATE VIEW v AS SELECT 1;\nSELECT 2"
    assert split_statements(sql) == ["CREATE TABLE a (x String COMMENT 'a;b')\nENGINE = Memory",
                                     "CREATE VIEW v AS SELECT 1", "SELECT 2"]


def test_migration_files_are_numbered_in_order_and_idempotent():
    files = migration_files()
    assert [m.name for m in files][:2] == ["001_base.sql", "002_analytics.sql"]
    assert [m.version for m in files] == sorted({m.version for m in files})
    for m in files:
        replacing = {t for t in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)\s[^;]*?ENGINE = ReplacingMergeTree", m.sql)}
        for statement in m.statements:
            head = " ".join(statement.split()[:8]).upper()
            # re-running these is harmless too: a backfill into a Replacing table of the same file collapses like a
            # replay, and a MATERIALIZE recomputes the same values
            backfill = re.match(r"INSERT INTO (\w+)\s+SELECT\b", statement)
            if backfill:
                assert backfill.group(1) in replacing, (m.name, head)
            elif not re.match(r"ALTER TABLE \w+ MATERIALIZE (COLUMN|INDEX) (IF EXISTS )?\w+( SETTINGS [\w =,]+)?$", statement):
                assert "IF NOT EXISTS" in head or "OR REPLACE" in head, (m.name, head)


def test_migration_files_reject_bad_names(tmp_path):
    (tmp_path / "1_x.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError):
        migration_files(tmp_path)


def test_database_name_is_validated_before_quoting():
    assert quote_database("socialpulse_2") == "`socialpulse_2`"
    for bad in ("", "1abc", "a-b", "a`b", "a; DROP DATABASE x", "a b"):
        with pytest.raises(MigrationError):
            quote_database(bad)


def test_every_sink_table_has_a_dedup_window():
    ddl = (ROOT / "schemas" / "clickhouse" / "001_base.sql").read_text()
    for statement in split_statements(ddl):
        if statement.startswith("CREATE TABLE"):
            assert "non_replicated_deduplication_window" in statement, statement.splitlines()[0]


# --- docs ------------------------------------------------------------------------------------------------------

def test_docs_queries_md_matches_the_code():
    assert (ROOT / "docs" / "queries.md").read_text() == queries_markdown(), \
        "regenerate: python -m pipeline.adapters.clickhouse.queries > docs/queries.md"


def test_thirteen_named_questions():
    assert len(QUERIES) == 13 and len({q.name for q in QUERIES}) == 13


def test_ids_are_queried_in_chunks_below_max_query_size():
    from pipeline.adapters.clickhouse.writer import IDS_PER_QUERY, chunked

    ids = [f"complaint:{i:020x}" for i in range(5001)]
    parts = chunked(ids)
    assert [len(p) for p in parts] == [1000] * 5 + [1]
    assert [i for p in parts for i in p] == ids
    # 1,000 quoted 30-char ids stay far below ClickHouse's default max_query_size (262,144 bytes)
    assert IDS_PER_QUERY * (len(ids[0]) + 4) < 262_144 // 4
