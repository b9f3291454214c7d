"""Token buckets (pure; the clock is injected, so tests never sleep): `TokenBucket` holds up to `burst` tokens and
gains `rate` per second; `RateLimiter` keeps one bucket per key (per ingest token for POST /api/mentions).

A request takes all the tokens it needs or none: a refused one learns how many seconds until it would be granted
(the `Retry-After` of a 429), and one larger than the bucket could ever hold learns `math.inf` (split it)."""
from __future__ import annotations

import math
import time
from typing import Callable, Hashable

Clock = Callable[[], float]


class TokenBucket:
    """`rate` tokens per second, at most `burst`; starts full. A clock that goes backwards adds nothing."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        if not rate > 0 or not burst > 0:
            raise ValueError(f"a token bucket needs rate > 0 and burst > 0 (got rate={rate}, burst={burst})")
        self.rate, self.burst, self._clock = float(rate), float(burst), clock
        self._tokens = self.burst
        self._at = clock()

    def _refill(self) -> float:
        now = self._clock()
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
        return self._tokens

    @property
    def available(self) -> float:
        return self._refill()

    def take(self, n: float = 1.0) -> float:
        """Take `n` tokens. 0.0 when granted; else nothing is taken and the result is the seconds until `n` would
        be available (`math.inf` when `n` is more than the bucket holds)."""
        if n > self.burst:
            return math.inf
        tokens = self._refill()
        if tokens >= n:
            self._tokens = tokens - n
            return 0.0
        return (n - tokens) / self.rate


class RateLimiter:
    """One `TokenBucket` per key, created full on first use."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        TokenBucket(rate, burst, clock)  # the same checks, at construction
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable) -> TokenBucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = TokenBucket(self.rate, self.burst, self._clock)
        return b

    def take(self, key: Hashable, n: float = 1.0) -> float:
        """`TokenBucket.take` on `key`'s bucket."""
        return self.bucket(key).take(n)


def retry_after(wait: float) -> int:
    """Whole seconds for a `Retry-After` header: at least 1, rounded up."""
    return max(1, math.ceil(wait))
