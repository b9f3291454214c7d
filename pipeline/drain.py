"""`socialpulse drain`: wait until the worker has consumed and committed everything (I/O)."""
from __future__ import annotations

import time
from typing import Callable, Optional

from pipeline.admin import consumer_lag
from pipeline.settings import Settings


def wait_drained(s: Settings, *, timeout: float = 300.0, echo: Optional[Callable[[str], None]] = None,
                 settle: int = 2) -> dict[str, int]:
    """Poll the consumer group's lag until it is zero `settle` times in a row; return {} or the last lag.

    Zero lag on the sink's topics means ClickHouse has the rows: the sink commits only after inserting."""
    deadline = time.monotonic() + timeout
    zero_in_a_row, last_print, lag = 0, 0.0, {}
    while time.monotonic() < deadline:
        lag = consumer_lag(s)
        if not any(lag.values()):
            zero_in_a_row += 1
            if zero_in_a_row >= settle:
                return {}
        else:
            zero_in_a_row = 0
            if echo and time.monotonic() - last_print > 5:
                echo("waiting: " + ", ".join(f"{t}={n}" for t, n in sorted(lag.items()) if n))
                last_print = time.monotonic()
        time.sleep(1.0)
    return {t: n for t, n in lag.items() if n}
