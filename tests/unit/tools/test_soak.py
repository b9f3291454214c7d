"""The soak run's verdict (pipeline/tools/soak.py): what counts as flat memory and a lag that does not grow."""
from __future__ import annotations

import pytest

from pipeline.tools.soak import Sample, markdown, summarise


def samples(rss: list[tuple[float, float]], lags: list[int], state: list[tuple[float, float]] = ()) -> list[Sample]:
    state = list(state) or [(10.0, 10.0)] * len(rss)
    return [Sample(minute=i + 1, produced=60_000 * (i + 1), rss_mb=list(r), state_mb=list(st),
                   mentions_rows=59_000 * (i + 1),
                   table_mb={"mentions": 4.0 * (i + 1), "alerts": 0.5}, lag={"socialpulse": lag, "socialpulse-sink": 0})
            for i, (r, lag, st) in enumerate(zip(rss, lags, state))]


def test_flat_memory_and_bounded_lag_pass():
    run = samples([(300, 310), (330, 335), (340, 338), (342, 340), (341, 343), (343, 341)],
                  [900, 1500, 400, 1200, 800, 1100])
    v = summarise(run, minutes=6, rate=1000, lag_final=0)
    assert v.memory_flat and v.lag_flat
    assert v.rss_start_mb == [342, 340] and v.rss_end_mb == [343, 341]
    assert v.lag_first_third_max == 1500 and v.lag_last_third_max == 1100


def test_table_state_filling_its_windows_is_not_a_leak():
    """RSS that grows with the tables' own state (windows filling) is flat memory besides them."""
    rss = [(300, 300), (320, 320), (340, 340), (360, 360), (380, 380), (400, 400)]
    state = [(10, 10), (30, 30), (50, 50), (70, 70), (90, 90), (110, 110)]
    v = summarise(samples(rss, [100] * 6, state), minutes=6, rate=1000, lag_final=0)
    assert v.rss_growth_pct == pytest.approx(11.1, abs=0.1) and v.state_growth_mb == [40, 40]
    assert v.other_growth_pct == 0.0 and v.memory_flat


def test_a_leak_or_a_growing_backlog_is_named():
    leak = samples([(300, 300), (320, 320), (340, 340), (380, 345), (420, 350), (460, 355)], [100] * 6)
    v = summarise(leak, minutes=6, rate=1000, lag_final=0)
    assert not v.memory_flat and v.rss_growth_pct == pytest.approx(21.1, abs=0.1)  # 380 → 460 MB
    backlog = samples([(300, 300)] * 6, [500, 800, 3000, 6000, 9000, 12000])
    assert not summarise(backlog, minutes=6, rate=1000, lag_final=0).lag_flat
    assert not summarise(samples([(300, 300)] * 6, [100] * 6), minutes=6, rate=1000, lag_final=5).lag_flat


def test_markdown_has_a_row_per_minute_and_the_verdict():
    run = samples([(300, 310)] * 3, [10, 20, 30])
    text = markdown(run, summarise(run, minutes=3, rate=1000, lag_final=0))
    assert len([line for line in text.splitlines() if line[:4] in ("| 1.", "| 2.", "| 3.")]) == 3
    assert "| 2.0 | 120,000 | 300 / 310 | 10.0 / 10.0 | 118,000 | 0.5 | 8.0 | 20 |" in text
    assert "flat" in text and "no growth" in text
    with pytest.raises(ValueError, match="at least 3"):
        summarise(run[:2], minutes=2, rate=1000, lag_final=0)
