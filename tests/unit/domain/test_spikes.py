"""pipeline/domain/spikes.py: negative spikes per brand and event-time hour, evaluated against the watermark."""
from __future__ import annotations

import dataclasses
import random

import msgspec

from pipeline.domain.escalation import alert_id
from pipeline.domain.sentiment import Sentiment
from pipeline.domain.spikes import (HOUR, TOP_N, SpikeConfig, SpikeState, advance, count_negative, evaluate, spike_alert,
                             spike_threshold, top_mention)

CFG = SpikeConfig()  # 24 h baseline, 3σ, at least 20, 300 s lateness
H0 = 480_000  # an hour index (2024-10-04)
NOW = "2026-12-01T12:00:00.000Z"


def neg(i: int, compound: float = -0.5, channel: str = "twitter"):
    return top_mention(f"{channel}:{i}", f"text {i}", channel, f"C{i}",
                       Sentiment(compound=compound, pos=0.0, neu=0.5, neg=0.5, label="negative"))


def at(hour: int, minute: float = 30) -> float:
    return hour * HOUR + minute * 60


def feed(state, events, cfg=CFG):
    """events: (ts, mention) → outcomes."""
    return [count_negative(state, ts, m, cfg) for ts, m in events]


def run(events, watermark_after, brand="acme", cfg=CFG, state=None):
    """Count every event, then apply `watermark_after` and evaluate; returns (state, spikes)."""
    state = state or SpikeState()
    feed(state, events, cfg)
    advance(state, watermark_after)
    return state, evaluate(state, brand, cfg)


def steady(hours, per_hour, start=0):
    """`per_hour` negatives in each of `hours` hours from H0 + start, with distinct ids."""
    out, n = [], start * 1000
    for h in range(H0 + start, H0 + start + hours):
        for k in range(per_hour):
            n += 1
            out.append((at(h, k % 60), neg(n)))
    return out


def outage(hour, count, base=900_000):
    return [(at(hour, k % 60), neg(base + k, compound=-0.9 + k * 0.001)) for k in range(count)]


def test_spike_threshold():
    assert spike_threshold([1, 1, 1, 1], 3) == 1.0
    assert spike_threshold([0, 2], 1) == 2.0  # mean 1, population σ 1
    assert spike_threshold([2, 4, 4, 4, 5, 5, 7, 9], 2) == 9.0  # mean 5, σ 2
    assert spike_threshold([], 3) == float("inf")


def test_no_evaluation_without_watermark():
    state, spikes = run(steady(24, 2) + outage(H0 + 24, 50), None)
    assert spikes == [] and state.alerted == []


def test_outage_after_full_baseline_alerts_once_with_context():
    events = steady(24, 2) + outage(H0 + 24, 50)
    # the outage hour is evaluable once hour H0+23 closed: watermark ≥ (H0+24)·3600 + lateness
    state, spikes = run(events, (H0 + 24) * HOUR + CFG.allowed_lateness)
    assert [(s.hour, s.count, s.baseline_mean, s.final) for s in spikes] == [(H0 + 24, 50, 2.0, False)]
    assert len(spikes[0].top) == TOP_N
    assert spikes[0].top[0].mention_id == "twitter:900000"  # the most negative of the hour
    assert [t.compound for t in spikes[0].top] == sorted(t.compound for t in spikes[0].top)
    # more of the same hour, a later watermark: never a second alert for that hour
    feed(state, outage(H0 + 24, 80, base=950_000))
    advance(state, (H0 + 26) * HOUR)
    assert evaluate(state, "acme", CFG) == []


def test_hour_is_not_evaluated_while_its_baseline_is_open():
    """An hour is judged only when every hour before it is closed (here hour H0+23 is still open)."""
    events = steady(24, 2) + outage(H0 + 24, 50)
    _, spikes = run(events, (H0 + 24) * HOUR + CFG.allowed_lateness - 1)
    assert spikes == []


def test_no_spike_without_full_baseline_period():
    """A brand's first day has no baseline: a busy early hour is not a spike, however late it is evaluated."""
    _, spikes = run(steady(10, 2) + outage(H0 + 10, 100), (H0 + 40) * HOUR)
    assert spikes == []


def test_busy_steady_hours_never_alert_as_the_watermark_moves_on():
    """A closed hour is judged once, on its final count: later, when its baseline hours have been dropped, it is not
    judged again against a baseline of zeros (a demo run raised 27 false spikes that way)."""
    state, found = SpikeState(), []
    for hour in range(H0, H0 + 80):
        busy = 30 if hour % 24 in range(8, 20) else 5  # a daily cycle: busy days, quiet nights
        feed(state, [(at(hour, k % 60), neg(hour * 100 + k)) for k in range(busy)])
        advance(state, (hour + 1) * HOUR + CFG.allowed_lateness + 1)
        found += evaluate(state, "acme", CFG)
    assert found == []
    assert len(state.tally) <= CFG.baseline_hours + 2


def test_min_count_and_sigma():
    base = steady(24, 10)
    _, spikes = run(base + outage(H0 + 24, 10), (H0 + 25) * HOUR + 600)  # 10 ≤ mean 10
    assert spikes == []
    _, spikes = run(base + outage(H0 + 24, 19), (H0 + 25) * HOUR + 600, cfg=SpikeConfig(min_count=20))
    assert spikes == []  # above 10 + 3·0 but below the minimum
    _, spikes = run(base + outage(H0 + 24, 20), (H0 + 25) * HOUR + 600)
    assert [s.count for s in spikes] == [20]


def sourced(state, events, partition=0, first=0, cfg=CFG):
    """events read by the detect stage from `partition` at offsets first, first+1, … → outcomes."""
    return [count_negative(state, ts, m, cfg, (partition, first + k, 0)) for k, (ts, m) in enumerate(events)]


def test_redelivered_sources_are_counted_once():
    state = SpikeState()
    events = outage(H0, 30)
    assert sourced(state, events) == ["counted"] * 30
    assert sourced(state, events) == ["duplicate"] * 30  # the same 30 again (a crash, a rebalance)
    assert sourced(state, events[20:], first=20) == ["duplicate"] * 10  # the tail only
    assert state.tally[H0].n == 30 and state.sources == {0: (29, 0)}
    # another detect partition has its own high-water mark; records of one packed message differ by index
    assert sourced(state, outage(H0, 3, base=500), partition=1, first=5) == ["counted"] * 3
    assert count_negative(state, at(H0), neg(900), CFG, (1, 7, 1)) == "counted"
    assert count_negative(state, at(H0), neg(900), CFG, (1, 7, 1)) == "duplicate"
    assert state.tally[H0].n == 34 and state.sources == {0: (29, 0), 1: (7, 1)}


def test_state_stays_small_however_many_negatives_an_hour_holds():
    """The state holds counts, not ids: 100,000 negatives in an hour encode to the size of a few."""
    state = SpikeState()
    sourced(state, [(at(H0, k % 60), neg(k)) for k in range(100_000)])
    assert state.tally[H0].n == 100_000
    assert len(msgspec.msgpack.encode(state)) < 2_000


def test_a_late_source_still_moves_its_high_water_mark():
    state = SpikeState()
    advance(state, (H0 + 1) * HOUR + CFG.allowed_lateness)  # hour H0 closed
    assert sourced(state, [(at(H0), neg(1))]) == ["late"]
    assert sourced(state, [(at(H0), neg(1))]) == ["duplicate"] and state.late == 1


def test_late_event_of_a_closed_hour_is_not_counted():
    state = SpikeState()
    advance(state, (H0 + 1) * HOUR + CFG.allowed_lateness)  # hour H0 closed
    assert feed(state, [(at(H0), neg(1))]) == ["late"]
    assert state.late == 1 and H0 not in state.tally
    # within the allowed lateness an hour still takes its late events
    state = SpikeState()
    advance(state, (H0 + 1) * HOUR + CFG.allowed_lateness - 1)
    assert feed(state, [(at(H0), neg(1))]) == ["counted"]


def test_watermark_never_goes_back_and_state_is_bounded():
    state = SpikeState()
    feed(state, steady(100, 1))
    assert advance(state, (H0 + 100) * HOUR)
    assert not advance(state, (H0 + 50) * HOUR)  # a restarted tracker reporting less: ignored
    assert state.watermark == (H0 + 100) * HOUR
    evaluate(state, "acme", CFG)
    # kept: the baseline of the first hour still to judge (H0+99, whose predecessors closed), nothing older
    assert min(state.tally) == H0 + 99 - CFG.baseline_hours
    assert len(state.tally) == CFG.baseline_hours + 1


def test_same_alerts_whatever_the_arrival_order():
    """Eight days, four outages: the alerts depend on the events and the final watermark only, not on their order,
    nor on where the watermark stood in between (as long as it only claims what had arrived)."""
    events = steady(8 * 24, 3)
    outages = [H0 + 30, H0 + 70, H0 + 120, H0 + 170]
    for k, h in enumerate(outages):
        events += outage(h, 60, base=1_000_000 * (k + 1))
    reference = None
    rng = random.Random(7)
    for trial in range(6):
        order = sorted(events, key=lambda e: e[0])
        if trial == 1:  # two "partitions" a day apart: odd events arrive 24 h later than even ones
            order = sorted(events, key=lambda e: e[0] + (24 * HOUR if int(e[1].mention_id.split(":")[1]) % 2 else 0))
        elif trial > 1:
            rng.shuffle(order)
        state, found = SpikeState(), []
        arrived_min = {}  # the watermark of a correct stage: min over "partitions" of what they delivered
        delivered: dict[int, list] = {0: [], 1: []}  # per "partition", in its order: (ts, mention, source)
        for i, (ts, m) in enumerate(order):
            lane = int(m.mention_id.split(":")[1]) % 2
            source = (lane, len(delivered[lane]), 0)
            delivered[lane].append((ts, m, source))
            count_negative(state, ts, m, CFG, source)
            arrived_min[lane] = max(arrived_min.get(lane, 0), ts)
            if trial <= 1 and i % 50 == 0 and len(arrived_min) == 2:
                advance(state, min(arrived_min.values()))
                found += evaluate(state, "acme", CFG)
        # a crash: each partition redelivers its last 40 records; none is counted again
        again = [count_negative(state, ts, m, CFG, src) for lane in (0, 1) for ts, m, src in delivered[lane][-40:]]
        assert again == ["duplicate"] * 80
        advance(state, max(ts for ts, _ in events) + 2 * HOUR)
        found += evaluate(state, "acme", CFG)
        hours = sorted(s.hour for s in found)
        if reference is None:
            reference = hours
        assert hours == reference, f"trial {trial}"
    assert reference == outages


def test_state_round_trips_through_msgpack():
    state, _ = run(steady(24, 2) + outage(H0 + 24, 30), (H0 + 25) * HOUR)
    raw = msgspec.msgpack.encode(state)
    back = msgspec.msgpack.decode(raw, type=SpikeState)
    assert back.alerted == state.alerted and back.watermark == state.watermark
    assert back.tally == state.tally and back.sources == state.sources


def test_earlier_states_decode_as_a_fresh_start():
    """The v1 state (hours/first_hour) and the id-set state (counts) keep their alerted hours, not their counts."""
    for old in ({"hours": {"1": 5}, "alerted": [H0], "first_hour": H0 - 30},
                {"counts": {str(H0): [[1, 2, 3], []]}, "alerted": [H0], "first": H0 - 30, "watermark": 5.0}):
        state = msgspec.msgpack.decode(msgspec.msgpack.encode(old), type=SpikeState)
        assert state.alerted == [H0] and state.tally == {} and state.sources == {}


def test_spike_alert_names_hour_count_baseline_and_worst_mention():
    state, spikes = run(steady(24, 5) + outage(H0 + 24, 40), (H0 + 25) * HOUR + CFG.allowed_lateness)
    alert = spike_alert(spikes[0], NOW, CFG, 30)
    assert alert.alert_id == alert_id("spike", f"acme:{H0 + 24}")
    assert alert.type == "spike" and alert.brand == "acme"
    assert alert.severity == "high"  # 40 vs 5/h: ratio 8 < 10
    assert alert.count == 40 and alert.baseline_mean == 5.0 and alert.threshold == 5.0
    assert alert.window_start == "2024-10-05T00:00:00.000Z"
    assert alert.mention_id == alert.top_mentions[0].mention_id == "twitter:900000"
    assert alert.sentiment.compound == -0.9
    assert alert.reasons == ["40 negative mentions of acme on 2024-10-05 00:00–01:00 UTC vs 5.0/h over the "
                             "previous 24 h (threshold 5.0)"]
    assert spikes[0].final  # judged after the hour closed
    early = spike_alert(dataclasses.replace(spikes[0], final=False), NOW, CFG, 30)
    assert early.reasons[0].startswith("40 negative mentions so far of acme on 2024-10-05 00:00–01:00 UTC")
    again = spike_alert(spikes[0], "2030-01-01T00:00:00.000Z", CFG, 30)
    assert again.alert_id == alert.alert_id  # one id per brand-hour, whenever it is raised


def test_spike_alert_critical_on_a_quiet_baseline():
    state, spikes = run(steady(24, 0) + [(at(H0), neg(1))] + outage(H0 + 24, 25), (H0 + 25) * HOUR)
    assert spike_alert(spikes[0], NOW, CFG, 30).severity == "critical"
