"""pipeline/runtime/watermarks.py: the min-over-inputs watermark with an idle timeout, and its header."""
from __future__ import annotations

from pipeline.runtime.watermarks import WM_HEADER, MarkForwarder, WatermarkTracker, decode_marks, encode_marks, header_marks


def test_header_round_trip_and_garbage():
    raw = encode_marks({0: 100.5, 3: 200.0})
    assert decode_marks(raw) == {0: 100.5, 3: 200.0}
    assert header_marks([("sp-kind", b"packed"), (WM_HEADER, raw)]) == {0: 100.5, 3: 200.0}
    assert header_marks({WM_HEADER: raw}) == {0: 100.5, 3: 200.0}
    assert header_marks(None) == {} and header_marks([]) == {}
    assert decode_marks(b"\xff\x00garbage") == {} and decode_marks(None) == {}
    assert decode_marks(encode_marks({1: float("nan"), 2: 5.0})) == {2: 5.0}


def test_min_over_all_inputs():
    t = WatermarkTracker(3, idle_timeout=30, now=0)
    t.update(0, 1000, now=1)
    t.update(1, 500, now=1)
    assert t.current(now=2) is None  # input 2 has not reported and is still in its grace period
    t.update(2, 800, now=2)
    assert t.current(now=3) == 500  # the slowest input holds it back
    t.update(1, 1200, now=4)
    assert t.current(now=5) == 800


def test_never_goes_back_and_ignores_older_marks():
    t = WatermarkTracker(1, idle_timeout=30, now=0)
    t.update(0, 1000, now=1)
    t.update(0, 900, now=2)  # older: a restarted upstream re-reporting
    assert t.current(now=3) == 1000
    assert t.marks[0] == 1000


def test_idle_input_stops_holding_it_back():
    t = WatermarkTracker(2, idle_timeout=30, now=0)
    t.update(0, 100, now=1)
    t.update(1, 5000, now=1)
    assert t.current(now=10) == 100
    t.update(1, 6000, now=40)  # input 0 silent since t=1
    assert t.current(now=40) == 6000
    # an input that never reported holds it back only during the grace period after start
    u = WatermarkTracker(2, idle_timeout=30, now=0)
    u.update(0, 700, now=5)
    assert u.current(now=20) is None
    assert u.current(now=31) == 700


def test_all_idle_means_the_latest_reported():
    t = WatermarkTracker(2, idle_timeout=30, now=0)
    t.update(0, 100, now=1)
    t.update(1, 300, now=1)
    assert t.current(now=2) == 100
    assert t.current(now=100) == 300  # nothing in flight anywhere


def test_forwarder_tells_silent_partitions_only_news():
    f = MarkForwarder(3)
    marks = {0: 10.0}
    assert f.header(1, marks) == [(WM_HEADER, encode_marks(marks))]
    assert f.silent({1}, marks) == [0, 2]
    f.header(0, marks)
    f.header(2, marks)
    assert f.silent(set(), marks) == []  # everyone heard these marks already
    assert f.silent(set(), {0: 11.0}) == [0, 1, 2]
    assert f.silent(set(), {}) == []
