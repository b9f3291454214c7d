"""agents/spikes.py: the spike stage's handlers on batches of packed negatives with watermark headers."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from pipeline.contract import topics
from pipeline.contract.records import Alert
from pipeline.domain.mention import to_iso
from pipeline.domain.spikes import SpikeState
from pipeline.runtime.packing import KIND_HEADER, PACKED, SOURCED, Packer, pack, with_source
from pipeline.runtime.table_batch import TableBatch
from pipeline.runtime.watermarks import WM_HEADER, encode_marks
from pipeline.settings import Settings
from agents.spikes import SpikeStage
from tests.unit.agents.conftest import DictTable, RecordingOutbox, dec, enc, event, mention

S = Settings(partitions=1)
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def batch(records, mark: float):
    """A packed message of the detect stage: each record carries its source (`with_source`)."""
    return event(topics.NEGATIVES, pack(records),
                 headers=[(KIND_HEADER, SOURCED), (WM_HEADER, encode_marks({0: mark}))])


def run_batch(stage: SpikeStage, events):
    out = RecordingOutbox()
    state = TableBatch(stage.table, stage.dec_state)
    asyncio.run(stage.process(out, state, events, "2026-12-01T00:00:00.000Z", Packer(S.partitions)))
    state.apply()
    return out


def negatives(hour: int, n: int, start: int, partition: int = 0):
    """`n` negative mentions of acme in `hour`, read by the detect stage at offsets start … start+n-1."""
    at = T0 + timedelta(hours=hour, minutes=10)
    return [(b"acme", with_source((partition, start + k, 0),
                                  enc(mention(start + k, customer=f"C{start + k}", created_at=to_iso(at)))))
            for k in range(n)]


def test_an_outage_hour_alerts_once_when_its_baseline_has_closed():
    stage = SpikeStage(S, DictTable())
    n = 0
    alerts = []
    for hour in range(30):  # a day of 2 negatives an hour, then hour 26 has 40
        count = 40 if hour == 26 else 2
        mark = (T0 + timedelta(hours=hour, minutes=59)).timestamp()  # the detect partition's progress
        out = run_batch(stage, [batch(negatives(hour, count, n), mark)])
        n += count
        alerts += [dec(s[2], Alert) for s in out.to(topics.ALERTS)]
    assert [(a.type, a.brand, a.window_start) for a in alerts] == [
        ("spike", "acme", to_iso(T0 + timedelta(hours=26)))]
    assert len(alerts[0].top_mentions) == 5
    state = dec(stage.table.data[b"acme"], SpikeState)
    assert state.alerted == [int((T0 + timedelta(hours=26)).timestamp() // 3600)]


def test_the_same_batch_redelivered_counts_nothing_twice():
    stage = SpikeStage(S, DictTable())
    records = negatives(0, 3, 0)
    run_batch(stage, [batch(records, T0.timestamp())])
    run_batch(stage, [batch(records, T0.timestamp())])
    state = dec(stage.table.data[b"acme"], SpikeState)
    assert sum(c.n for c in state.tally.values()) == 3
    assert state.sources == {0: (2, 0)}
