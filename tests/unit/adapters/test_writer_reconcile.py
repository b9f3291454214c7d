"""The writer's alert state path without a server (a scripted fake client): insert_alerts reconciles only the
alerts whose action state moved while it wrote them, and every reconcile reads only the partitions holding the
alerts (`_partition_id`), which `alerts FINAL` does not prune by itself. The same behaviour against a real server:
tests/integration/test_writer_reconcile.py."""
from __future__ import annotations

from datetime import datetime, timezone

from pipeline.adapters.clickhouse import columns
from pipeline.adapters.clickhouse import writer as sink
from pipeline.adapters.clickhouse.writer import ClickHouseWriter
from pipeline.contract.records import Alert, AlertAction, PriorComplaints, Sentiment
from pipeline.settings import Settings

ACKED = ("acked", "", datetime(2026, 11, 16, 10, 5, tzinfo=timezone.utc), None)


def alert(i: int) -> Alert:
    return Alert(alert_id=f"A-{i}", type="complaint", severity="high", reasons=["complaint"],
                 mention_id=f"twitter:{i}", customer_id="C-1", brand="acme", channel="twitter", text="refund",
                 sentiment=Sentiment(-0.5, 0.0, 0.5, 0.5, "negative"),
                 prior_complaints=PriorComplaints(count=0, window_days=30),
                 channels_complained_on=["twitter"], created_at="2026-11-16T10:00:00Z")


class ScriptedClient:
    """Answers the state read with the next of `states` (a list of {alert_id: state tuple}), the partition lookup
    with `partitions`; records every call."""

    def __init__(self, states=(), partitions=()):
        self.states = list(states)
        self.partitions = list(partitions)
        self.calls: list[tuple] = []

    def execute(self, sql, params=None, **kw):
        self.calls.append((sql, params))
        if sql == columns.ALERT_STATE_SQL:
            found = self.states.pop(0) if self.states else {}
            return [(i, *found[i]) for i in params["ids"] if i in found]
        if sql == sink.ALERT_PARTITIONS_SQL:
            return [(p,) for p in self.partitions]
        return []

    def disconnect(self):
        pass

    def sqls(self) -> list[str]:
        return [sql for sql, _ in self.calls]


def writer(fake: ScriptedClient) -> ClickHouseWriter:
    return ClickHouseWriter(Settings(sink_retry_max_backoff=0.01), client_factory=lambda: fake)


def test_insert_alerts_without_new_actions_reads_no_alerts():
    fake = ScriptedClient(states=[{"A-1": ACKED}, {"A-1": ACKED}])
    assert writer(fake).insert_alerts([alert(1), alert(2)], "t") == 2
    assert fake.sqls() == [columns.ALERT_STATE_SQL, columns.INSERT_ALERTS, columns.ALERT_STATE_SQL]


def test_insert_alerts_reconciles_the_alerts_acted_on_meanwhile_in_their_partitions():
    fake = ScriptedClient(states=[{}, {"A-2": ACKED}], partitions=["202611"])
    writer(fake).insert_alerts([alert(1), alert(2), alert(3)], "t")
    assert fake.sqls()[3:] == [sink.ALERT_PARTITIONS_SQL, sink.RECONCILE_IN_PARTITIONS_SQL]
    assert fake.calls[3][1] == {"ids": ("A-2",)}
    assert fake.calls[4][1] == {"ids": ("A-2",), "partitions": ("202611",)}


def test_apply_actions_reconciles_in_the_partitions_found():
    fake = ScriptedClient(partitions=["202611", "202610"])
    actions = [AlertAction(alert_id=f"A-{i}", action="ack", by="ann", at="2026-11-16T10:05:00Z") for i in (2, 1)]
    writer(fake).apply_actions(actions, "t")
    assert fake.sqls() == [columns.INSERT_ACTIONS, sink.ALERT_PARTITIONS_SQL, sink.RECONCILE_IN_PARTITIONS_SQL]
    assert fake.calls[2][1] == {"ids": ("A-1", "A-2"), "partitions": ("202610", "202611")}


def test_actions_on_alerts_not_stored_yet_write_no_version():
    fake = ScriptedClient(partitions=[])
    writer(fake).apply_actions([AlertAction(alert_id="A-9", action="ack", by="ann")], "t")
    assert fake.sqls() == [columns.INSERT_ACTIONS, sink.ALERT_PARTITIONS_SQL]


def test_reconcile_in_partitions_is_the_reconcile_with_a_partition_filter():
    sql = sink.RECONCILE_IN_PARTITIONS_SQL
    assert sql.replace(" AND _partition_id IN %(partitions)s", "") == columns.RECONCILE_ALERTS_SQL
    assert "FROM alerts FINAL WHERE alert_id IN %(ids)s AND _partition_id IN %(partitions)s" in sql
