"""The writer's alert state path on the real ClickHouse server: an action logged while insert_alerts writes its batch
(after its state read, before its insert) still ends in the alert's state; reconciles read only the partitions
holding the alerts, and give the state of the actions whatever partition the alert sits in."""
from __future__ import annotations

import pytest

from pipeline.adapters.clickhouse import writer as sink
from pipeline.adapters.clickhouse.client import client
from pipeline.adapters.clickhouse.writer import ClickHouseWriter
from pipeline.contract.records import AlertAction
from tests.integration.test_clickhouse_schema import alert, alert_state, fresh_db, mention

pytestmark = pytest.mark.integration


def test_an_action_logged_during_insert_alerts_is_reconciled(clickhouse_settings, monkeypatch):
    s = fresh_db(clickhouse_settings, "t_writer_reconcile_race")
    w, other, c = ClickHouseWriter(s), ClickHouseWriter(s), client(s)
    read = sink._alert_states
    reads = []

    def state_read_then_an_ack_arrives(cl, ids):
        states = read(cl, ids)
        reads.append(dict(states))
        if len(reads) == 1:  # the action stage acts between the batch's state read and its insert
            other.apply_actions([AlertAction(alert_id="A-2", action="ack", by="ann", at="2026-11-15T11:00:00Z")],
                                "x-race")
        return states

    monkeypatch.setattr(sink, "_alert_states", state_read_then_an_ack_arrives)
    try:
        ms = [mention(str(i), f"2026-1{i}-15T10:00:00Z", complaint=True) for i in range(3)]
        w.insert_alerts([alert(f"A-{i}", m) for i, m in enumerate(ms)], "a")
        assert reads[0] == {} and set(reads[1]) == {"A-2"}  # read before the insert, and again after it
        assert [alert_state(c, f"A-{i}")[0][0] for i in range(3)] == ["open", "open", "acked"]
        assert c.execute("SELECT alert_id, count() FROM alerts GROUP BY alert_id ORDER BY alert_id") == \
            [("A-0", 1), ("A-1", 1), ("A-2", 2)]  # the reconcile wrote one new version, of A-2 only
    finally:
        w.close()
        other.close()
        c.disconnect()


def test_reconcile_reads_the_alerts_partitions_only(clickhouse_settings):
    s = fresh_db(clickhouse_settings, "t_writer_reconcile_partitions")
    w, c = ClickHouseWriter(s), client(s)
    try:
        ms = [mention(str(i), f"2026-{i + 1:02d}-15T10:00:00Z", complaint=True) for i in range(12)]
        w.insert_alerts([alert(f"A-{i}", m) for i, m in enumerate(ms)], "a")
        ids = ("A-3", "A-7")
        partitions = tuple(sorted(r[0] for r in c.execute(sink.ALERT_PARTITIONS_SQL, {"ids": ids})))
        assert partitions == ("202604", "202608")
        read = sink.RECONCILE_IN_PARTITIONS_SQL[sink.RECONCILE_IN_PARTITIONS_SQL.index("SELECT"):]
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN indexes = 1 " + read, {"ids": ids, "partitions": partitions}))
        assert "Parts: 2/2" in plan and "Parts: 12/12" not in plan, plan  # 2 of the 12 monthly parts are read
        w.apply_actions([AlertAction(alert_id=a, action="resolve", by="ann", at="2026-12-01T00:00:00Z") for a in ids]
                        + [AlertAction(alert_id="A-0", action="ack", by="ann", at="2026-12-01T00:00:00Z")], "x")
        assert c.execute("SELECT alert_id, status FROM v_alerts_current WHERE status != 'open' ORDER BY alert_id") == \
            [("A-0", "acked"), ("A-3", "resolved"), ("A-7", "resolved")]
    finally:
        w.close()
        c.disconnect()
