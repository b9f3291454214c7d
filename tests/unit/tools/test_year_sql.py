"""The SQL builders of `bench --analytics --fill sql` (pipeline/tools/bench/year_sql.py) without a server: chunks and
replays cover the year as year.py does, the statements write the sink's column contracts, the constants of year.py
reach the SQL, the builders are deterministic. The filled year itself is compared with the writer's in
tests/integration/test_bench_sql_fill.py."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from pipeline.adapters.clickhouse.columns import (ACTION_COLUMNS, CUSTOMER_COLUMNS, FEEDBACK_COLUMNS,
                                                  IDENTITY_COLUMNS, LINK_COLUMNS, MENTION_COLUMNS)
from pipeline.tools.bench import year_sql
from pipeline.tools.bench.year import BRANDS, CHANNELS, CUES, YearShape, replayed_batches
from pipeline.tools.bench.year_sql import (ALERT_INSERT_COLUMNS, ALERT_VERSIONS, actions_sql, alerts_sql, arr,
                                           chunk_sql, chunks, crm_sql, feedback_sql, lit, mentions_sql, pick_index,
                                           prospects_sql, replay_ranges, stage_sql, uniform, zipf_rank)

END = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def insert_columns(sql: str) -> tuple[str, ...]:
    head = re.match(r"INSERT INTO \w+ \(([^)]*)\)", sql)
    assert head, sql[:80]
    return tuple(c.strip().strip("`") for c in head.group(1).split(","))


def test_chunks_cover_every_row_once_in_order():
    assert chunks(600_000, 250_000) == [(0, 250_000), (250_000, 500_000), (500_000, 600_000)]
    assert chunks(50_000, 250_000) == [(0, 50_000)]
    assert chunks(0) == []


@pytest.mark.parametrize("mentions", [20_000, 50_000, 300_000, 2_000_000])
def test_replays_are_the_rows_of_year_pys_replayed_batches(mentions):
    shape = YearShape(mentions=mentions, end=END)
    rows = set()
    for lo, hi in chunks(mentions, 250_000):
        for a, z in replay_ranges(shape, lo, hi):
            assert lo <= a < z <= hi
            rows.update(range(a, z))
    expected = {i for b in replayed_batches(shape) for i in range(b * shape.batch_size,
                                                                   min((b + 1) * shape.batch_size, mentions))}
    assert rows == expected and rows  # ~2 %; one batch of ten at 20,000
    assert len(rows) / mentions <= (0.1 if mentions < 52_000 else 0.025)


def test_statements_write_the_sinks_columns():
    assert insert_columns(mentions_sql()) == MENTION_COLUMNS == insert_columns(mentions_sql(replay=True))
    assert set(ALERT_VERSIONS) == {"open", "replay", "acked", "resolved"}
    for version in ALERT_VERSIONS:
        assert insert_columns(alerts_sql(version)) == ALERT_INSERT_COLUMNS
    assert insert_columns(actions_sql()) == ACTION_COLUMNS
    assert insert_columns(feedback_sql()) == FEEDBACK_COLUMNS
    assert insert_columns(prospects_sql()) == IDENTITY_COLUMNS
    ident, customers, links = crm_sql(YearShape(mentions=50_000, end=END), 0, 1000)
    assert (insert_columns(ident), insert_columns(customers), insert_columns(links)) == (
        IDENTITY_COLUMNS, CUSTOMER_COLUMNS, LINK_COLUMNS)
    assert "numbers(0, 1000)" in ident and "numbers(0, 1000)" in customers


def test_alert_versions_and_replays():
    assert "'resolved'" in alerts_sql("resolved") and "resolved_at AS `resolved_at`" in alerts_sql("resolved")
    assert "NULL AS `acked_at`" in alerts_sql("open") and "acked_at AS `acked_at`" in alerts_sql("acked")
    assert "WHERE is_complaint AND replayed" in alerts_sql("replay") and "toIntervalSecond(90)" in alerts_sql("replay")
    assert "processed_at + toIntervalSecond(90)" in mentions_sql(replay=True)
    assert "toIntervalSecond(90)" not in mentions_sql()


def test_chunk_statements_in_the_sinks_order():
    shape = YearShape(mentions=300_000, end=END)
    names = [n for n, _ in chunk_sql(shape, 0, 250_000)]
    assert names == ["drop", "stage", "mentions", "prospects", "alerts", "mentions-replay", "alerts-replay",
                     "actions", "alerts-acked", "alerts-resolved", "feedback"]
    small = YearShape(mentions=60_000, end=END, batch_size=2000)  # 30 batches: only batch 25 is replayed
    assert [n for n, _ in chunk_sql(small, 0, 40_000)].count("mentions-replay") == 0
    assert [n for n, _ in chunk_sql(small, 40_000, 60_000)].count("mentions-replay") == 1


def test_stage_carries_year_pys_constants_and_is_deterministic():
    shape = YearShape(mentions=1_000_000, end=END)
    sql = stage_sql(shape, 250_000, 500_000, [(251_000, 253_000)])
    assert sql == stage_sql(YearShape(mentions=1_000_000, end=END), 250_000, 500_000, [(251_000, 253_000)])
    assert "FROM numbers(250000, 250000)" in sql and "(i >= 251000 AND i < 253000)" in sql
    assert arr(BRANDS) in sql and arr(CHANNELS) in sql and arr(CUES) in sql
    assert "concat('y25-', toString(i))" in sql  # the mention ids of year.py: y{seed}-{i}
    assert zipf_rank(shape.customers, uniform(25, "i", "customer")) in sql
    assert zipf_rank(shape.prospects, uniform(25, "i", "prospect")) in sql
    assert f"toDateTime64({shape.start.timestamp()!r}" not in sql and repr(shape.end.timestamp()) in sql
    other = stage_sql(YearShape(mentions=1_000_000, end=END, seed=7), 250_000, 500_000)
    assert "cityHash64(7, i," in other and "cityHash64(25, i," not in other
    assert "(i >= " not in other and "false AS replayed" in other


def test_draws_are_independent_hashes():
    salts = [re.search(r"cityHash64\(25, i, (\d+)\)", uniform(25, "i", d)).group(1) for d in year_sql._DRAWS]
    assert len(set(salts)) == len(salts)


def test_helpers():
    assert lit("it's") == "'it\\'s'" and arr(["a", 1]) == "['a', 1]"
    assert pick_index([2, 1], "u") == "arrayFirstIndex(c -> c > u * 3, [2, 3])"
    assert zipf_rank(1000, "u") == "toUInt64(least(999, toUInt64(exp(u * log(1001))) - 1))"
