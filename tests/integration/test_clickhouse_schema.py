"""Against the real ClickHouse server: migrations, exactly-once rows under duplicate inserts, alert actions,
identities and prospects, a real outage through a TCP proxy, GDPR erase, and every docs/queries.md query on a
fixture data set with known answers."""
from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from datetime import date, datetime, timedelta, timezone
from typing import Optional

import msgspec
import pytest

from pipeline.adapters.clickhouse.client import client
from pipeline.adapters.clickhouse.migrations import apply_migrations, migration_files, pending_migrations, quote_database
from pipeline.adapters.clickhouse.queries import QUERIES, run_query
from pipeline.adapters.clickhouse.value_sql import ADVOCATES_SQL
from pipeline.domain.identity import engagement_of, prospect_id
from pipeline.contract.records import (Alert, AlertAction, ComplaintInfo, CustomerContext, EnrichedMention, Identity,
                              PriorComplaints)
from pipeline.adapters.clickhouse.writer import ClickHouseWriter, WriterStopped, erase_customer
from pipeline.domain.sentiment import Sentiment, label_for
from pipeline.domain.value import CustomerValue, MentionReach, customer_values
from pipeline.settings import Settings

pytestmark = pytest.mark.integration
UTC = timezone.utc
SINK_TABLES = ("mentions", "alerts", "alert_actions", "customers", "identities", "prospect_links", "complaint_feedback")


def fresh_db(base: Settings, name: str, **changes) -> Settings:
    """Settings on a new, migrated database of its own (dropped first if a previous run left it)."""
    s = dataclasses.replace(base, clickhouse_database=name, sink_retry_max_backoff=0.2, **changes)
    admin = client(s, database=False)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_database(name)} SYNC")
    finally:
        admin.disconnect()
    apply_migrations(s)
    return s


@pytest.fixture
def db(request, clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_schema_" + request.node.name.replace("[", "_").replace("]", "")[:40])
    c = client(s)
    yield s, c
    c.disconnect()


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def mention(source_id: str, at: str, *, channel: str = "twitter", author: str = "bob", brand: Optional[str] = "acme",
            customer_id: str = "C-1", compound: float = 0.0, complaint: bool = False, influence: float = 0.25,
            followers: int = 100, tier: str = "standard", lifetime_value: float = 0.0, prospect: bool = False,
            processed_at: str = "2026-11-16T00:00:00Z", text: Optional[str] = None,
            metadata: Optional[dict] = None) -> EnrichedMention:
    return EnrichedMention(
        mention_id=f"{channel}:{source_id}", id=source_id, channel=channel, author=author,
        text=text or f"text of {source_id}", created_at=at,
        sentiment=Sentiment(compound, max(compound, 0.0), 1 - abs(compound), max(-compound, 0.0), label_for(compound)),
        customer_id=customer_id, is_prospect=prospect,
        customer=CustomerContext(tier="prospect" if prospect else tier, lifetime_value=lifetime_value,
                                 influence=influence),
        complaint=ComplaintInfo(is_complaint=complaint, score=0.75 if complaint else 0.125,
                                cues=["refund"] if complaint else []),
        processed_at=processed_at, brand=brand, author_followers=followers, metadata=metadata)


def alert(alert_id: str, m: EnrichedMention, *, severity: str = "high", type_: str = "complaint",
          tier: str = "standard", lifetime_value: float = 0.0, created_at: Optional[str] = None) -> Alert:
    return Alert(alert_id=alert_id, type=type_, severity=severity, reasons=[f"{type_} ({severity})"],
                 mention_id=m.mention_id, customer_id=m.customer_id, brand=m.brand, channel=m.channel, text=m.text,
                 sentiment=m.sentiment, prior_complaints=PriorComplaints(count=1, window_days=30),
                 channels_complained_on=[m.channel], created_at=created_at or m.created_at,
                 is_prospect=m.is_prospect,
                 customer=None if m.is_prospect else CustomerContext(tier=tier, lifetime_value=lifetime_value,
                                                                      influence=0.25),
                 complaint_score=0.75)


def scalar(c, sql: str, params: Optional[dict] = None):
    return c.execute(sql, params or {})[0][0]


# --- migrations ------------------------------------------------------------------------------------------------

def test_migrations_apply_once_and_rerun_is_a_noop(clickhouse_settings):
    s = dataclasses.replace(clickhouse_settings, clickhouse_database="t_schema_migrations")
    admin = client(s, database=False)
    admin.execute("DROP DATABASE IF EXISTS t_schema_migrations SYNC")
    admin.disconnect()
    names = [m.name for m in migration_files()]
    assert [m.name for m in pending_migrations(s)] == names
    assert apply_migrations(s) == names
    assert apply_migrations(s) == [] and pending_migrations(s) == []
    c = client(s)
    try:
        assert c.execute("SELECT version, name FROM schema_migrations FINAL ORDER BY version") == \
            [(m.version, m.name) for m in migration_files()]
        tables = dict(c.execute("SELECT name, engine FROM system.tables WHERE database = currentDatabase()"))
        for t in SINK_TABLES:
            assert tables[t] == "ReplacingMergeTree", t
            ddl = scalar(c, "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() "
                            "AND name = %(t)s", {"t": t})
            assert "non_replicated_deduplication_window = 1000" in ddl, t
        for v in ("v_mentions", "v_alerts_current", "v_sentiment_hourly", "v_complaint_rate",
                  "v_open_alerts_by_brand", "v_word_of_mouth", "v_share_of_voice", "v_community_health",
                  "v_customer_timeline", "v_customer_value", "v_customer_value_between"):
            assert tables[v] == "View", v
        cols = dict(c.execute("SELECT name, type FROM system.columns WHERE database = currentDatabase() "
                              "AND table = 'mentions'"))
        assert cols["created_at"] == "DateTime64(3, 'UTC')" and cols["channel"] == "LowCardinality(String)"
        assert cols["complaint_cues"] == "Array(LowCardinality(String))" and cols["is_prospect"] == "Bool"
        assert scalar(c, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() "
                         "AND name = 'mentions'") == "brand, created_at, mention_id"
    finally:
        c.disconnect()


# --- exactly N rows --------------------------------------------------------------------------------------------

N = 3000


def batch(n: int = N, processed_at: str = "2026-11-16T00:00:00Z") -> list[EnrichedMention]:
    """n mentions, 47 minutes apart (3000 span four monthly partitions), two brands and no brand."""
    start = datetime(2026, 9, 1, tzinfo=UTC)
    return [mention(str(i), iso(start + timedelta(minutes=47 * i)), brand=("acme", "globex", None)[i % 3],
                    customer_id=f"C-{i % 50}", compound=((i % 5) - 2) / 4, processed_at=processed_at)
            for i in range(n)]


def counts(c) -> tuple[int, int, int]:
    return c.execute("SELECT (SELECT count() FROM mentions), (SELECT count() FROM mentions FINAL), "
                     "(SELECT uniqExact(mention_id) FROM mentions)")[0]


def test_same_batch_twice_with_the_same_token_is_stored_once(db):
    s, c = db
    w = ClickHouseWriter(s)
    rows = batch()
    assert len({m.created_at[:7] for m in rows}) >= 3  # the batch spans several monthly partitions
    assert w.insert_mentions(rows, "mentions|mentions.enriched/0:0-2999") == N
    assert w.insert_mentions(rows, "mentions|mentions.enriched/0:0-2999") == N
    assert counts(c) == (N, N, N)  # the server dropped the retry: not even a second physical copy
    assert scalar(c, "SELECT count() FROM v_mentions") == N
    w.close()


def test_same_rows_with_another_token_are_collapsed_by_final(db):
    s, c = db
    w = ClickHouseWriter(s)
    w.insert_mentions(batch(), "tok-a")
    w.insert_mentions(batch(processed_at="2026-11-16T01:00:00Z"), "tok-b")  # a replay with other batch boundaries
    physical, final, distinct = counts(c)
    assert (final, distinct) == (N, N) and physical == 2 * N
    assert scalar(c, "SELECT sum(mentions) FROM v_sentiment_hourly") == N
    assert scalar(c, "SELECT sum(mentions) FROM v_word_of_mouth") == N
    assert scalar(c, "SELECT min(processed_at) FROM v_mentions") == datetime(2026, 11, 16, 1, tzinfo=UTC)
    c.execute("OPTIMIZE TABLE mentions FINAL")
    assert counts(c) == (N, N, N)
    w.close()


def test_a_newer_version_of_a_mention_replaces_the_old_one(db):
    s, c = db
    w = ClickHouseWriter(s)
    old = mention("1", "2026-11-15T10:00:00Z", complaint=True, processed_at="2026-11-15T10:00:01Z")
    new = mention("1", "2026-11-15T10:00:00Z", complaint=False, processed_at="2026-11-15T11:00:00Z")
    w.insert_mentions([new], "t2")
    w.insert_mentions([old], "t1")  # late arrival of the older version
    assert c.execute("SELECT count(), countIf(is_complaint) FROM v_mentions") == [(1, 0)]
    assert scalar(c, "SELECT count() FROM v_mentions WHERE is_complaint") == 0  # filter applies after FINAL
    w.close()


# --- alerts and actions ----------------------------------------------------------------------------------------

def alert_state(c, alert_id: str):
    return c.execute("SELECT status, assignee, acked_at, resolved_at FROM v_alerts_current WHERE alert_id = %(a)s",
                     {"a": alert_id})


def test_actions_change_status_and_survive_replays_and_races(db):
    s, c = db
    w = ClickHouseWriter(s)
    m = mention("1", "2026-11-15T10:00:00Z", complaint=True, compound=-0.5)
    w.insert_alerts([alert("A-1", m)], "a1")
    assert alert_state(c, "A-1") == [("open", "", None, None)]

    w.apply_actions([AlertAction(alert_id="A-1", action="assign", by="ann", assignee="bo",
                                 at="2026-11-15T10:01:00Z")], "x1")
    assert alert_state(c, "A-1") == [("open", "bo", None, None)]
    w.apply_actions([AlertAction(alert_id="A-1", action="ack", by="bo", at="2026-11-15T10:02:00Z")], "x2")
    acked = datetime(2026, 11, 15, 10, 2, tzinfo=UTC)
    assert alert_state(c, "A-1") == [("acked", "bo", acked, None)]
    w.apply_actions([AlertAction(alert_id="A-1", action="resolve", by="bo", note="refunded",
                                 at="2026-11-15T10:30:00Z")], "x3")
    resolved = [("resolved", "bo", acked, datetime(2026, 11, 15, 10, 30, tzinfo=UTC))]
    assert alert_state(c, "A-1") == resolved

    # the same action delivered twice (other token) and the alert replayed: the state stays resolved
    w.apply_actions([AlertAction(alert_id="A-1", action="resolve", by="bo", note="refunded",
                                 at="2026-11-15T10:30:00Z")], "x3-replay")
    w.insert_alerts([alert("A-1", m)], "a1-replay")
    assert alert_state(c, "A-1") == resolved
    assert scalar(c, "SELECT count() FROM alert_actions FINAL WHERE alert_id = 'A-1'") == 3

    # race: the action is stored before its alert
    w.apply_actions([AlertAction(alert_id="A-2", action="ack", by="ann", at="2026-11-15T11:00:00Z")], "x4")
    assert alert_state(c, "A-2") == []
    w.insert_alerts([alert("A-2", m, created_at="2026-11-15T10:59:00Z")], "a2")
    assert alert_state(c, "A-2") == [("acked", "", datetime(2026, 11, 15, 11, tzinfo=UTC), None)]
    assert scalar(c, "SELECT count() FROM v_alerts_current") == 2
    w.close()


# --- identities and prospects ----------------------------------------------------------------------------------

def test_identities_prospects_links_and_tombstones(db):
    s, c = db
    w = ClickHouseWriter(s)
    pid = prospect_id("twitter:alice")
    w.upsert_prospects([("twitter:alice", pid), ("twitter:dave", prospect_id("twitter:dave"))], "p1")
    w.upsert_identities([
        ("twitter:alice", Identity(key="twitter:alice", customer_id="C-1", tier="gold", lifetime_value=500.0,
                                   followers=10_000, name="Alice", updated_at="2026-11-15T09:00:00Z")),
        ("email:alice@example.com", Identity(key="email:alice@example.com", customer_id="C-1", tier="gold",
                                             lifetime_value=500.0, followers=10_000, name="Alice",
                                             updated_at="2026-11-15T09:00:00Z")),
    ], "p1")  # the prospects' token again: each method namespaces its tokens, nothing is dropped
    w.upsert_prospects([("twitter:alice", pid)], "p2")  # a late prospect row must not take the handle back
    assert c.execute("SELECT identity_key, channel, handle, customer_id, is_prospect FROM v_identities_current "
                     "ORDER BY identity_key") == [
        ("email:alice@example.com", "email", "alice@example.com", "C-1", False),
        ("twitter:alice", "twitter", "alice", "C-1", False),
        ("twitter:dave", "twitter", "dave", prospect_id("twitter:dave"), True)]
    assert c.execute("SELECT customer_id, name, tier, lifetime_value, followers FROM v_customers_current") == \
        [("C-1", "Alice", "gold", 500.0, 10_000)]
    assert (pid, "C-1") in c.execute("SELECT prospect_id, customer_id FROM prospect_links FINAL")
    assert w.link_prospects([("P-explicit", "C-1")], "l1") == 1
    assert scalar(c, "SELECT customer_id FROM prospect_links FINAL WHERE prospect_id = 'P-explicit'") == "C-1"

    # a tombstone removes the link; a set and a tombstone of one key in one batch: the last one wins
    w.upsert_identities([("email:alice@example.com", None),
                         ("twitter:zed", Identity(key="twitter:zed", customer_id="C-9")),
                         ("twitter:zed", None)], "i2")
    assert c.execute("SELECT identity_key FROM v_identities_current ORDER BY identity_key") == \
        [("twitter:alice",), ("twitter:dave",)]
    w.close()


# --- outage ----------------------------------------------------------------------------------------------------

class TcpProxy:
    """A TCP forwarder to ClickHouse that can be taken down (refuses connections, drops open ones) and back up."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.listener: Optional[socket.socket] = None
        self.conns: list[socket.socket] = []

    def up(self) -> None:
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", self.port))
        lst.listen(16)
        self.listener = lst
        threading.Thread(target=self._accept, args=(lst,), daemon=True).start()

    def down(self) -> None:
        if self.listener is not None:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread; close() alone does not
            self.listener.close()
            self.listener = None
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.conns.clear()

    def _accept(self, lst: socket.socket) -> None:
        while True:
            try:
                a, _ = lst.accept()
            except OSError:
                return
            b = socket.create_connection(self.target)
            self.conns += [a, b]
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_outage_holds_rows_logs_once_and_writes_them_when_clickhouse_returns(db, caplog):
    s, c = db
    caplog.set_level(logging.INFO, logger="pipeline.adapters.clickhouse.writer")
    proxy = TcpProxy(s.clickhouse_port)
    proxy.up()
    w = ClickHouseWriter(dataclasses.replace(s, clickhouse_port=proxy.port, sink_retry_max_backoff=0.3))
    rows = batch(1000)
    w.insert_mentions(rows[:500], "o1")
    proxy.down()
    done = threading.Event()
    result: list = []

    def second_batch():
        result.append(w.insert_mentions(rows[500:], "o2"))
        done.set()

    t = threading.Thread(target=second_batch, daemon=True)
    t.start()
    time.sleep(2.0)
    assert not done.is_set() and w.in_outage
    proxy.up()
    assert done.wait(20) and result == [500]
    assert counts(c) == (1000, 1000, 1000)
    warnings = [r for r in caplog.records if r.name == "pipeline.adapters.clickhouse.writer" and r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.name == "pipeline.adapters.clickhouse.writer" and r.levelno == logging.INFO]
    assert len(warnings) == 1 and "holding 500 rows" in warnings[0].getMessage()
    assert len(infos) == 1 and "available again" in infos[0].getMessage()
    assert not [r for r in caplog.records if r.name.startswith("clickhouse_driver") and r.levelno >= logging.WARNING]
    w.close()
    proxy.down()


def test_unreachable_server_never_drops_and_stop_raises(clickhouse_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    w = ClickHouseWriter(dataclasses.replace(clickhouse_settings, clickhouse_port=dead_port,
                                             sink_retry_max_backoff=0.1))
    threading.Timer(1.0, w.stop).start()
    started = time.monotonic()
    with pytest.raises(WriterStopped):
        w.insert_mentions(batch(10), "dead")
    assert time.monotonic() - started >= 0.9  # it kept retrying until told to stop


# --- GDPR erase ------------------------------------------------------------------------------------------------

def test_erase_customer_removes_every_row_of_the_customer_and_its_prospect_past(db):
    s, c = db
    w = ClickHouseWriter(s)
    pid = prospect_id("facebook:alice.fb")
    w.upsert_prospects([("facebook:alice.fb", pid)], "p")
    before = mention("0", "2026-11-10T10:00:00Z", channel="facebook", author="alice.fb", customer_id=pid,
                     prospect=True, complaint=True, compound=-0.5)
    w.upsert_identities([(k, Identity(key=k, customer_id="C-1", name="Alice", updated_at="2026-11-11T00:00:00Z"))
                         for k in ("twitter:alice", "email:alice@example.com", "facebook:alice.fb")], "i")
    w.upsert_identities([("twitter:bob", Identity(key="twitter:bob", customer_id="C-2", name="Bob"))], "i2")
    alice = [before] + [mention(str(i), f"2026-11-1{i}T10:00:00Z", author="alice", customer_id="C-1",
                                complaint=True, compound=-0.5) for i in range(1, 4)]
    bob = [mention(str(i), "2026-11-12T10:00:00Z", customer_id="C-2") for i in range(10, 13)]
    w.insert_mentions(alice + bob, "m")
    w.insert_alerts([alert("A-1", alice[1]), alert("A-0", before), alert("B-1", bob[0])], "a")
    w.apply_actions([AlertAction(alert_id="A-1", action="ack", by="ann", at="2026-11-12T10:00:00Z"),
                     AlertAction(alert_id="B-1", action="ack", by="ann", at="2026-11-12T10:00:00Z")], "x")
    assert len(run_query(c, "customer_timeline", customer_id="C-1")) == 6  # 4 mentions + 2 alerts
    # verdicts on the complaint model: on the customer's alert, on its prospect past, and one on Bob's mention
    w.insert_feedback([
        AlertAction(alert_id="A-1", action="not_complaint", by="ann", at="2026-11-12T11:00:00Z",
                    mention_id=alice[1].mention_id, customer_id="C-1", brand="acme", channel="twitter"),
        AlertAction(alert_id="", action="missed_complaint", by="ann", at="2026-11-12T11:00:00Z",
                    mention_id=before.mention_id, customer_id=pid, brand="acme", channel="facebook"),
        # recorded under an id the erase does not know: found through the mention it names
        AlertAction(alert_id="", action="missed_complaint", by="bo", at="2026-11-12T11:00:00Z",
                    mention_id=alice[2].mention_id, customer_id="P-elsewhere", brand="acme", channel="twitter"),
        AlertAction(alert_id="", action="missed_complaint", by="ann", at="2026-11-12T11:00:00Z",
                    mention_id=bob[0].mention_id, customer_id="C-2", brand="acme", channel="twitter")], "f")

    removed = erase_customer(s, "C-1")
    assert removed["mentions"] == 4 and removed["customers"] == 1
    assert removed["identities"] in (3, 4)  # 4 stored rows, 3 once a merge collapsed the prospect row
    assert removed["alerts"] >= 2 and removed["alert_actions"] == 1 and removed["prospect_links"] == 3
    assert removed["complaint_feedback"] == 3
    assert c.execute("SELECT customer_id FROM complaint_feedback") == [("C-2",)]
    ids = ("C-1", pid)
    for table in ("mentions", "alerts", "identities", "customers"):
        assert scalar(c, f"SELECT count() FROM {table} WHERE customer_id IN %(ids)s", {"ids": ids}) == 0, table
    assert scalar(c, "SELECT count() FROM identities WHERE handle LIKE 'alice%%'") == 0
    assert scalar(c, "SELECT count() FROM alert_actions WHERE alert_id LIKE 'A-%%'") == 0
    assert scalar(c, "SELECT count() FROM prospect_links WHERE customer_id = 'C-1' OR prospect_id = %(p)s",
                  {"p": pid}) == 0
    assert run_query(c, "customer_timeline", customer_id="C-1") == []
    # nobody else's data is touched
    assert scalar(c, "SELECT count() FROM v_mentions WHERE customer_id = 'C-2'") == 3
    assert alert_state(c, "B-1")[0][0] == "acked"
    assert scalar(c, "SELECT count() FROM v_identities_current WHERE customer_id = 'C-2'") == 1
    # erase again: nothing left, and purge rewrites the parts
    assert set(erase_customer(c, "C-1", purge=True).values()) == {0}
    assert erase_customer(c, "C-2", purge=True)["mentions"] == 3
    assert scalar(c, "SELECT count() FROM complaint_feedback") == 0
    assert scalar(c, "SELECT count() FROM mentions") == 0
    w.close()


# --- the analyst queries on a fixture data set -----------------------------------------------------------------

P_ALICE_FB = prospect_id("facebook:alice.fb")
P_DAVE = prospect_id("twitter:dave")
P_ERIN = prospect_id("instagram:erin")
C1 = dict(customer_id="C-1", tier="gold", lifetime_value=5000.0)
C2 = dict(customer_id="C-2", tier="standard", lifetime_value=50000.0)
C3 = dict(customer_id="C-3", tier="platinum", lifetime_value=200.0)
FOLLOWERS = {"C-1": 500, "C-2": 2000, "C-3": 0}  # the customers' follower counts in the CRM


def fixture_mentions() -> dict[str, EnrichedMention]:
    """The data set of docs/queries.md's tests: two brands, three customers, three prospects, four weeks."""
    M = mention
    return {
        # this week (2026-11-09 … 2026-11-16); "today" is 2026-11-15
        "m1": M("m1", "2026-11-15T09:10:00Z", author="alice", compound=-0.5, complaint=True, influence=0.5, **C1),
        "m2": M("m2", "2026-11-15T09:40:00Z", channel="email", author="alice@example.com", compound=-0.75,
                complaint=True, **C1),
        "m3": M("m3", "2026-11-15T10:05:00Z", compound=0.5, metadata={"likes": 40, "shares": 10, "url": "x"}, **C2),
        "m15": M("m15", "2026-11-15T09:50:00Z", compound=0.25, **C2),
        "m4": M("m4", "2026-11-14T12:00:00Z", author="carol", brand="globex", compound=-0.25, complaint=True, **C3),
        "m5": M("m5", "2026-11-13T08:00:00Z", channel="email", author="carol@example.com", brand="globex",
                compound=-0.5, complaint=True, **C3),
        "m6": M("m6", "2026-11-15T11:00:00Z", author="dave", customer_id=P_DAVE, prospect=True, compound=-0.75,
                influence=0.75, followers=50_000, metadata={"retweets": 250}),
        "m7": M("m7", "2026-11-15T11:30:00Z", channel="instagram", author="erin", brand="globex",
                customer_id=P_ERIN, prospect=True, compound=0.75, influence=0.125, followers=800,
                metadata={"likes": 12, "comments": 3.9, "shares": True, "replies": -2}),
        "m8": M("m8", "2026-11-12T10:00:00Z", channel="facebook", author="alice.fb", customer_id=P_ALICE_FB,
                prospect=True, compound=-0.5, complaint=True),
        "m9": M("m9", "2026-11-10T10:00:00Z", brand="globex", compound=0.0, **C2),
        "m10": M("m10", "2026-11-15T09:20:00Z", brand=None, compound=0.25, **C2),
        "m16": M("m16", "2026-11-11T14:00:00Z", channel="instagram", author="erin", brand="globex",
                 customer_id=P_ERIN, prospect=True, compound=0.0),
        # the week before
        "m11": M("m11", "2026-11-03T10:00:00Z", compound=0.5, metadata={"likes": 6000, "retweets": 1500}, **C2),
        "m12": M("m12", "2026-11-04T10:00:00Z", author="dave", customer_id=P_DAVE, prospect=True, compound=-0.25),
        "m13": M("m13", "2026-11-05T10:00:00Z", author="carol", brand="globex", compound=0.25, **C3),
        "m17": M("m17", "2026-11-08T10:00:00Z", compound=0.5, **C2),
        # last month
        "m14": M("m14", "2026-10-20T10:00:00Z", channel="instagram", author="erin", brand="globex",
                 customer_id=P_ERIN, prospect=True, compound=0.5),
    }


@pytest.fixture(scope="module")
def analytics(clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_schema_queries")
    w = ClickHouseWriter(s)
    ms = fixture_mentions()
    w.upsert_prospects([("facebook:alice.fb", P_ALICE_FB), ("twitter:dave", P_DAVE), ("instagram:erin", P_ERIN)],
                       "p")
    w.upsert_identities([(k, Identity(key=k, customer_id=cust["customer_id"], tier=cust["tier"],
                                      lifetime_value=cust["lifetime_value"], followers=FOLLOWERS[cust["customer_id"]],
                                      name=name))
                         for k, cust, name in (
                             ("twitter:alice", C1, "Alice"),
                             ("email:alice@example.com", C1, "Alice"),
                             ("facebook:alice.fb", C1, "Alice"),
                             ("twitter:bob", C2, "Bob"),
                             ("twitter:carol", C3, "Carol"),
                             ("email:carol@example.com", C3, "Carol"))], "i")
    # a stale version of m3 (thought to be a complaint), then everything twice under different tokens
    stale = msgspec.structs.replace(ms["m3"], processed_at="2026-11-15T10:05:01Z",
                                complaint=ComplaintInfo(is_complaint=True, score=0.75, cues=["refund"]))
    w.insert_mentions([stale], "stale")
    w.insert_mentions(list(ms.values()), "batch-1")
    w.insert_mentions(list(ms.values()), "batch-1")
    w.insert_mentions(list(ms.values()), "batch-1-replayed-differently")

    alerts = {
        "A1": alert("A1", ms["m1"], severity="high", type_="cross_channel_complaint", **_cust(C1)),
        "A2": alert("A2", ms["m2"], severity="critical", type_="vip_complaint", **_cust(C1)),
        "A3": alert("A3", ms["m4"], severity="medium", **_cust(C3)),
        "A4": alert("A4", ms["m5"], severity="high", **_cust(C3)),
        "A5": alert("A5", ms["m8"], severity="low"),
        "A6": alert("A6", ms["m9"], severity="medium", **_cust(C2)),
        "A7": alert("A7", msgspec.structs.replace(ms["m7"], customer_id="C-4", is_prospect=False,
                                              created_at="2026-11-15T12:00:00Z"), severity="low"),
    }
    # A3's actions arrive before A3 itself (sink race)
    w.apply_actions([AlertAction(alert_id="A3", action="ack", by="ann", at="2026-11-14T13:00:00Z"),
                     AlertAction(alert_id="A3", action="resolve", by="ann", at="2026-11-14T15:00:00Z")], "x1")
    w.insert_alerts(list(alerts.values()), "alerts-1")
    w.apply_actions([AlertAction(alert_id="A1", action="ack", by="ann", at="2026-11-15T10:00:00Z"),
                     AlertAction(alert_id="A4", action="assign", by="ann", assignee="bo",
                                 at="2026-11-14T09:00:00Z")], "x2")
    w.insert_alerts(list(alerts.values()), "alerts-1-replayed")
    w.close()
    c = client(s)
    yield c
    c.disconnect()


def _cust(cust: dict) -> dict:
    return {"tier": cust["tier"], "lifetime_value": cust["lifetime_value"]}


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_fixture_is_stored_exactly_once(analytics):
    assert scalar(analytics, "SELECT count() FROM v_mentions") == len(fixture_mentions())
    assert scalar(analytics, "SELECT count() FROM v_alerts_current") == 7


EXPECTED: dict[str, list[tuple]] = {
    "customers_complaining_on_several_channels": [
        ("C-1", "gold", 2, ["email", "twitter"], 2, dt("2026-11-15 09:40:00")),
        ("C-3", "platinum", 2, ["email", "twitter"], 2, dt("2026-11-14 12:00:00")),
    ],
    "negative_influencers": [
        (P_DAVE, "twitter", "dave", 0.75, 50_000, 1, -0.75, "text of m6"),
        ("C-1", "twitter", "alice", 0.5, 100, 1, -0.5, "text of m1"),
        ("C-1", "email", "alice@example.com", 0.25, 100, 1, -0.75, "text of m2"),
    ],
    "hourly_sentiment_for_brand": [
        (dt("2026-11-15 09:00:00"), "email", 1, -0.75, 1.0, 1),
        (dt("2026-11-15 09:00:00"), "twitter", 2, -0.125, 0.5, 1),
        (dt("2026-11-15 10:00:00"), "twitter", 1, 0.5, 0.0, 0),
        (dt("2026-11-15 11:00:00"), "twitter", 1, -0.75, 1.0, 0),
    ],
    "complaint_rate_by_brand": [
        ("acme", 6, 3, 0.5, 2),
        ("globex", 5, 2, 0.4, 1),
    ],
    "open_alerts_by_brand": [
        ("acme", 2, 1, 1, 1, 3, dt("2026-11-12 10:00:00")),
        ("globex", 3, 0, 0, 1, 2, dt("2026-11-10 10:00:00")),
    ],
    "share_of_voice": [
        ("acme", 9, 0.5625, 0.4444, 0.5556),
        ("globex", 7, 0.4375, 0.4286, 0.2857),
    ],
    "word_of_mouth_growth": [
        ("acme", 5, 2, 3, 6, 3),
        ("globex", 4, 1, 3, 5, 1),
    ],
    "valuable_customers_with_unresolved_alerts": [
        ("C-2", "standard", 50000.0, 1, 1, ["twitter"], dt("2026-11-10 10:00:00")),
        ("C-3", "platinum", 200.0, 1, 1, ["email"], dt("2026-11-13 08:00:00")),
        ("C-1", "gold", 5000.0, 2, 1, ["email", "twitter"], dt("2026-11-15 09:10:00")),
    ],
    "community_health_trend": [
        (date(2026, 11, 12), 1, -1.0, 0.0, 0, 1, None, -1.0),
        (date(2026, 11, 15), 5, -0.2, -0.333, 4, 1, 0.0, -1.0),
    ],
    "customer_timeline": [
        (dt("2026-11-12 10:00:00"), "mention", "facebook", "acme", "negative", True, "refund", "", "text of m8"),
        (dt("2026-11-12 10:00:00"), "alert", "facebook", "acme", "negative", True, "complaint / low", "open",
         "text of m8"),
        (dt("2026-11-15 09:10:00"), "mention", "twitter", "acme", "negative", True, "refund", "", "text of m1"),
        (dt("2026-11-15 09:10:00"), "alert", "twitter", "acme", "negative", True,
         "cross_channel_complaint / high", "acked", "text of m1"),
        (dt("2026-11-15 09:40:00"), "mention", "email", "acme", "negative", True, "refund", "", "text of m2"),
        (dt("2026-11-15 09:40:00"), "alert", "email", "acme", "negative", True, "vip_complaint / critical", "open",
         "text of m2"),
    ],
    "top_advocates": [
        ("C-2", False, "standard", 50000.0, 71530.0, 17550, 5, 0, 19550, dt("2026-11-15 10:05:00")),
        (P_ERIN, True, "prospect", 0.0, 5623.5, 815, 1, 0, 915, dt("2026-11-15 11:30:00")),
    ],
    "valuable_customers_turning_detractors": [
        ("C-2", "standard", 50000.0, 11500, 6050, 1.0, 0.75, 18630.0, 0, dt("2026-11-15 10:05:00")),
        ("C-1", "gold", 5000.0, 0, -1000, None, -1.0, -9200.0, 3, dt("2026-11-15 09:40:00")),
        ("C-3", "platinum", 200.0, 100, -100, 1.0, -1.0, -460.0, 2, dt("2026-11-14 12:00:00")),
    ],
    "clv_vs_crv_quadrant": [
        ("champions", 1, 50000.0, 71530.0, 17550, ["C-2"], 5000.0, 0.0),
        ("misers", 2, 5200.0, -9430.0, -1000, ["C-3", "C-1"], 5000.0, 0.0),
    ],
}


def approx_rows(rows):
    return [tuple(pytest.approx(v, abs=1e-4) if isinstance(v, float) else v for v in r) for r in rows]


def test_every_documented_query_is_tested():
    assert set(EXPECTED) == {q.name for q in QUERIES}


@pytest.mark.parametrize("name", [q.name for q in QUERIES])
def test_documented_query_returns_the_expected_rows(analytics, name):
    assert run_query(analytics, name) == approx_rows(EXPECTED[name])


def test_views_agree_with_the_fixture(analytics):
    c = analytics
    assert c.execute("SELECT status, assignee, acked_at IS NOT NULL, resolved_at IS NOT NULL FROM v_alerts_current "
                     "WHERE alert_id IN ('A1', 'A3', 'A4') ORDER BY alert_id") == \
        [("acked", "", True, False), ("resolved", "", True, True), ("open", "bo", False, False)]
    assert c.execute("SELECT day, brand, share_of_voice FROM v_share_of_voice WHERE day = '2026-11-15' "
                     "ORDER BY brand") == approx_rows([(date(2026, 11, 15), "acme", 5 / 6),
                                                       (date(2026, 11, 15), "globex", 1 / 6)])
    assert c.execute("SELECT mentions, complaints, complaint_rate FROM v_complaint_rate WHERE brand = 'acme' "
                     "AND day = '2026-11-15'") == approx_rows([(5, 2, 0.4)])
    assert c.execute("SELECT distinct_authors, distinct_customers, distinct_prospects FROM v_word_of_mouth "
                     "WHERE brand = 'acme' AND day = '2026-11-15'") == [(4, 2, 1)]


# --- customer value (v_customer_value, docs/customer_value.md) -------------------------------------------------
# Reach per fixture mention: C-1's (also m8, made as the prospect P_ALICE_FB) 500 each (Alice's 500 followers);
# C-2's 2000 (Bob's followers) + engagement: m3 2050, m11 9500; C-3's 100; P_DAVE m6 50,250, m12 100; P_ERIN
# m7 815 (800 followers, 12 likes, 3.9 comments → 3), m16/m14 100. Value per reached person: 0.0005 × average
# CLV (5000 + 50000 + 200) / 3 = 9.2.

def reference_values(start: Optional[str] = None, end: Optional[str] = None) -> dict[str, CustomerValue]:
    """pipeline/domain/value.py on the fixture: what the views must answer."""
    ms = [m for m in fixture_mentions().values()
          if (start is None or m.created_at >= start) and (end is None or m.created_at < end)]
    customers = {c["customer_id"]: (c["lifetime_value"], FOLLOWERS[c["customer_id"]]) for c in (C1, C2, C3)}
    return customer_values(customers, [(m.customer_id, MentionReach.of(m)) for m in ms], links={P_ALICE_FB: "C-1"})


def value_rows(c, sql: str, params: Optional[dict] = None) -> dict[str, CustomerValue]:
    rows = c.execute(f"SELECT customer_id, lifetime_value, referral_value, advocacy, mentions, positive, negative, "
                     f"reach FROM {sql}", params or {})
    return {r[0]: CustomerValue(*r) for r in rows}


def approx_values(values: dict[str, CustomerValue]) -> dict[str, CustomerValue]:
    return {k: dataclasses.replace(v, referral_value=pytest.approx(v.referral_value, abs=1e-6))
            for k, v in values.items()}


def test_customer_value_views_equal_the_python_reference(analytics):
    c = analytics
    assert (P_ALICE_FB, "C-1") in c.execute("SELECT prospect_id, customer_id FROM prospect_links FINAL")
    every = reference_values()
    assert set(every) == {"C-1", "C-2", "C-3", P_DAVE, P_ERIN}
    assert value_rows(c, "v_customer_value") == approx_values(every)
    week = reference_values("2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z")
    assert value_rows(c, "v_customer_value_between(start = %(s)s, end = %(e)s)",
                      {"s": "2026-11-09 00:00:00", "e": "2026-11-16 00:00:00"}) == approx_values(week)
    # m1 (twitter) and m8 (facebook, as a prospect) reach the CRM's 500 followers; the e-mail m2 reaches nobody
    assert every["C-1"] == CustomerValue("C-1", 5000.0, pytest.approx(9.2 * -2 * 500 * (0.5 + 0.5)),
                                         advocacy=-1000, mentions=3, positive=0, negative=3, reach=1000)


def test_customer_value_columns_for_customers_prospects_and_the_silent(analytics):
    rows = analytics.execute(
        "SELECT customer_id, is_prospect, tier, influence, first_seen, last_seen "
        "FROM v_customer_value_between(start = '2026-10-01 00:00:00', end = '2026-11-09 00:00:00') "
        "ORDER BY customer_id")
    assert rows == approx_rows(sorted([
        ("C-1", False, "gold", 0.45, None, None),  # silent in the period: the CRM's influence (500 followers)
        ("C-2", False, "standard", 0.25, dt("2026-11-03 10:00:00"), dt("2026-11-08 10:00:00")),
        ("C-3", False, "platinum", 0.25, dt("2026-11-05 10:00:00"), dt("2026-11-05 10:00:00")),
        (P_DAVE, True, "prospect", 0.25, dt("2026-11-04 10:00:00"), dt("2026-11-04 10:00:00")),
        (P_ERIN, True, "prospect", 0.25, dt("2026-10-20 10:00:00"), dt("2026-10-20 10:00:00")),
    ], key=lambda r: r[0]))


def test_valuable_customers_turning_detractors_respects_value_and_tiers(analytics):
    rows = run_query(analytics, "valuable_customers_turning_detractors", min_lifetime_value=100000.0,
                     tiers=("platinum",))
    assert [r[0] for r in rows] == ["C-3"]
    rows = run_query(analytics, "valuable_customers_turning_detractors", min_drop=10**6)
    assert [r[0] for r in rows] == ["C-1", "C-3"]  # C-2 fell by 5,450 people but is still an advocate


def test_clv_vs_crv_quadrant_at_given_splits(analytics):
    assert run_query(analytics, "clv_vs_crv_quadrant", clv_split=1000.0, crv_split=-2000.0) == approx_rows([
        ("champions", 1, 50000.0, 71530.0, 17550, ["C-2"], 1000.0, -2000.0),
        ("affluents", 1, 5000.0, -9200.0, -1000, ["C-1"], 1000.0, -2000.0),
        ("advocates", 1, 200.0, -230.0, 0, ["C-3"], 1000.0, -2000.0),
    ])


def test_dashboard_advocates_sql_lists_advocates_then_detractors(analytics):
    rows = analytics.execute(ADVOCATES_SQL, {"start": "2026-11-01 00:00:00", "end": "2026-12-01 00:00:00",
                                             "limit": 2})
    assert rows == approx_rows([
        ("C-2", False, "standard", 50000.0, 71530.0, 17550, 6, 5, 0, 19550),
        (P_ERIN, True, "prospect", 0.0, 5623.5, 815, 2, 1, 0, 915),
        (P_DAVE, True, "prospect", 0.0, -693910.0, -50350, 2, 0, 2, 50350),
        ("C-1", False, "gold", 5000.0, -9200.0, -1000, 3, 0, 3, 1000),
    ])


ENGAGEMENT_CASES = [None, {}, {"likes": 5}, {"likes": True}, {"likes": "7"}, {"likes": -3}, {"likes": 2.9},
                    {"likes": 10**13}, {"shares": 1e20}, {"retweets": 18446744073709551615}, {"likes": None},
                    {"comments": [1]}, {"replies": {"n": 3}}, {"retweets": 0}, {"x": {"likes": 5}}, {"Likes": 5},
                    {"likes": 3, "shares": 4, "retweets": 5, "comments": 6, "replies": 7, "views": 100},
                    {"likes": 0.5, "shares": 1.5, "text": "likes: 9"}]


def test_reach_engagement_in_sql_mirrors_engagement_of(db):
    s, c = db
    w = ClickHouseWriter(s)
    ms = [mention(str(i), "2026-11-15T10:00:00Z", customer_id=f"P-{i}", prospect=True, followers=10 * i,
                  compound=0.5, metadata=meta) for i, meta in enumerate(ENGAGEMENT_CASES)]
    w.insert_mentions(ms, "engagement")
    w.close()
    reach = dict(c.execute("SELECT customer_id, reach FROM v_customer_value"))
    assert reach == {m.customer_id: m.author_followers + engagement_of(m.metadata) for m in ms}
    assert reach["P-7"] == 70 + 10**12 and reach["P-16"] == 160 + 25
