"""What the dashboard warns about in the configuration it shares with the worker: no brands configured, or a
brands file that cannot be read (`BrandsCheck`; its answer travels in /api/kpis and the live page shows a banner).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Final

from pipeline.domain.brands import Brands, BrandsError, load_brands
from pipeline.settings import Settings

NO_BRANDS_WARNING: Final = (
    "No brands configured: complaints at brand handles not in brands.yml are recognised only by handles that "
    "resemble the brand or were learned from the stream. Run `socialpulse brands suggest`.")
#: How long an answer is kept: brands.yml is re-read at most this often, so a fixed file clears the banner.
RECHECK_SECONDS: Final = 30.0


@dataclass(frozen=True)
class BrandsState:
    """How many brands the dashboard's settings configure, and the warnings to show (empty: none)."""

    count: int
    warnings: list[str] = field(default_factory=list)


def brands_state(settings: Settings, load: Callable[[Settings], Brands] = load_brands) -> BrandsState:
    """The brands of `settings` (as the worker loads them) → their count and the warnings."""
    try:
        brands = load(settings)
    except BrandsError as exc:
        return BrandsState(0, [f"The brands file cannot be used: {exc}"])
    if not brands.brands:
        return BrandsState(0, [NO_BRANDS_WARNING])
    return BrandsState(len(brands.brands))


class BrandsCheck:
    """`brands_state` of the dashboard's settings, re-checked at most every `recheck` seconds (thread-safe)."""

    def __init__(self, settings: Settings, *, load: Callable[[Settings], Brands] = load_brands,
                 recheck: float = RECHECK_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings, self._load, self._recheck, self._clock = settings, load, recheck, clock
        self._lock = threading.Lock()
        self._state: BrandsState | None = None
        self._at = 0.0

    def check(self) -> BrandsState:
        with self._lock:
            now = self._clock()
            if self._state is None or now - self._at >= self._recheck:
                self._state, self._at = brands_state(self._settings, self._load), now
            return self._state
