"""The rollup refresher's pure parts: its environment settings, the retention horizon, the order of a refresh's
statements, postponing while a mutation runs, and one warning per ClickHouse outage (with a stand-in client; the real
server is exercised in tests/integration/test_rollups.py)."""
from __future__ import annotations

import logging
import time
from datetime import date

import pytest
from clickhouse_driver import errors as ch_errors

from pipeline.adapters.clickhouse import rollups
from pipeline.runtime.rollup_refresher import RefresherConfig, RollupRefresher, refresher_config
from pipeline.settings import Settings, SettingsError


def test_config_defaults_and_environment():
    assert refresher_config(env={}) == RefresherConfig(30.0, rollups.SETTLE_SECONDS)
    assert refresher_config(env={"SOCIALPULSE_ROLLUP_REFRESH_SECONDS": "5",
                                 "SOCIALPULSE_ROLLUP_SETTLE_SECONDS": " 0.5 "}) == RefresherConfig(5.0, 0.5)
    assert not RollupRefresher(Settings(), refresher_config(env={"SOCIALPULSE_ROLLUP_REFRESH_SECONDS": "0"})).enabled
    for bad in ("soon", "-1", "nan", "inf"):
        with pytest.raises(SettingsError, match="SOCIALPULSE_ROLLUP_REFRESH_SECONDS"):
            refresher_config(env={"SOCIALPULSE_ROLLUP_REFRESH_SECONDS": bad})


def test_retention_horizon_keeps_only_days_whose_rows_are_all_there():
    assert rollups.retention_horizon(0) is None
    assert rollups.retention_horizon(1, date(2026, 12, 10)) == date(2026, 12, 10)
    assert rollups.retention_horizon(365, date(2026, 12, 10)) == date(2025, 12, 11)


class Recorder:
    """Answers a refresh's queries from a script and records them."""

    def __init__(self, pending_mutations: int = 0, stale: int = 1):
        self.sql: list[str] = []
        self.pending, self.stale = pending_mutations, stale

    def execute(self, sql: str, params=None, **_):
        self.sql.append(" ".join(sql.split()))
        if sql.startswith("SELECT toString(now64"):
            return [("2026-12-10 10:00:00.000",)]
        if "system.mutations" in sql:
            return [(self.pending,)]
        if sql.startswith("SELECT count()"):
            return [(self.stale,)]
        return []


def test_refresh_takes_its_version_first_and_records_the_refresh_last():
    c = Recorder()
    assert rollups.refresh_day(c, date(2026, 11, 15), settle_seconds=0)
    kinds = [s.split(" (")[0].split(" SELECT")[0] for s in c.sql]
    assert c.sql[0].startswith("SELECT toString(now64")  # the version, before anything is read
    assert "system.mutations" in c.sql[1]
    assert [s for s in kinds if s.startswith("INSERT")] == [
        "INSERT INTO mentions_hourly", "INSERT INTO mentions_daily", "INSERT INTO rollup_refreshes"]
    assert c.sql[-1].startswith("INSERT INTO rollup_refreshes")  # a crash before this leaves the day dirty
    assert sum(s.startswith("DELETE FROM") for s in c.sql) == 2  # stale groups found in both rollups


def test_no_delete_when_no_group_disappeared_and_postponed_while_a_mutation_runs():
    c = Recorder(stale=0)
    rollups.refresh_day(c, date(2026, 11, 15))
    assert not any(s.startswith("DELETE") for s in c.sql)
    c = Recorder(pending_mutations=1)
    assert rollups.refresh_day(c, date(2026, 11, 15)) is False
    assert not any(s.startswith("INSERT") for s in c.sql)  # the erase in progress: the day stays dirty


class Down:
    def execute(self, *_a, **_k):
        raise ch_errors.NetworkError("Connection refused")

    def disconnect(self):
        pass


def test_an_outage_logs_once_and_the_loop_keeps_trying(caplog):
    made: list[Down] = []
    r = RollupRefresher(Settings(), RefresherConfig(interval=0.01, settle_seconds=0),
                        client_factory=lambda: made.append(Down()) or made[-1])
    with caplog.at_level(logging.WARNING, logger="pipeline.runtime.rollup_refresher"):
        r.start()
        deadline = time.monotonic() + 5
        while len(made) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        r.stop()
    assert len(made) >= 5 and r.outage  # a new connection per round
    assert len([m for m in caplog.messages if "unavailable" in m]) == 1
