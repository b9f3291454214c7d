"""Keeps the dirty-day rollups refreshed (docs/analytics.md): a daemon thread in the process that runs the ClickHouse
sink (started and stopped by `pipeline.runtime.sink.SinkService`) that every `SOCIALPULSE_ROLLUP_REFRESH_SECONDS`
(default 30; 0 = off) recomputes the dirty days whose last write is older than `SOCIALPULSE_ROLLUP_SETTLE_SECONDS`
(default 120) with `pipeline.adapters.clickhouse.rollups.refresh_dirty`.

The views are exact whether this runs or not: a dirty day is read from the base table, the refresher only makes it
fast again. While ClickHouse is unreachable it logs one warning and retries every interval (one info line when it is
back). Several sink processes may each run one: a refresh is idempotent (same numbers for the same state, the
highest version wins, a row of a refresh that read an older state is ignored by the views), so running it twice
costs work, not correctness. Days older than the rows retention (`retention_rows_days`) are never recomputed.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from pipeline.adapters.clickhouse.client import client as make_client
from pipeline.adapters.clickhouse.errors import RETRY_CANDIDATES, describe_error, is_transient
from pipeline.adapters.clickhouse.rollups import SETTLE_SECONDS, refresh_dirty, retention_horizon
from pipeline.settings import Settings, SettingsError

log = logging.getLogger(__name__)

ENV_INTERVAL = "SOCIALPULSE_ROLLUP_REFRESH_SECONDS"
ENV_SETTLE = "SOCIALPULSE_ROLLUP_SETTLE_SECONDS"
DEFAULT_INTERVAL = 30.0


@dataclass(frozen=True)
class RefresherConfig:
    """`interval`: seconds between rounds (0 = no refresher); `settle_seconds`: quiet time before a day is refreshed."""

    interval: float = DEFAULT_INTERVAL
    settle_seconds: float = SETTLE_SECONDS


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e7:
        raise SettingsError(f"{name}={text!r}: expected a number of seconds >= 0")
    return value


def refresher_config(s: Optional[Settings] = None, env: Optional[Mapping[str, str]] = None) -> RefresherConfig:
    """The refresher's settings from the environment (they are not Settings fields; documented in
    docs/analytics.md). Raises SettingsError on a value that is not a number of seconds >= 0."""
    env = os.environ if env is None else env
    return RefresherConfig(interval=_seconds(env, ENV_INTERVAL, DEFAULT_INTERVAL),
                           settle_seconds=_seconds(env, ENV_SETTLE, SETTLE_SECONDS))


class RollupRefresher:
    """`start()` a daemon thread refreshing settled dirty days every interval; `stop()` ends it."""

    def __init__(self, s: Settings, config: Optional[RefresherConfig] = None, *,
                 client_factory: Optional[Callable[[], Any]] = None) -> None:
        self.s = s
        self.config = config or refresher_config(s)
        self._factory = client_factory or (lambda: make_client(s))
        self._client: Any = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.outage = False
        self.rounds = 0
        self.days_refreshed = 0

    @property
    def enabled(self) -> bool:
        return self.config.interval > 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="rollup-refresher", daemon=True)
        self._thread.start()
        log.info("rollup refresher: every %gs, days quiet for %gs", self.config.interval, self.config.settle_seconds)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait up to `timeout` (a refresh in flight finishes or leaves its day dirty)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        if self._client is not None and (thread is None or not thread.is_alive()):
            self._client.disconnect()
            self._client = None

    def run_once(self) -> int:
        """One round: refresh the settled dirty days (from the retention horizon on); returns days refreshed.
        Raises what the client raises."""
        if self._client is None:
            self._client = self._factory()
        oldest = retention_horizon(getattr(self.s, "retention_rows_days", 0) or 0)
        n = refresh_dirty(self._client, self.config.settle_seconds, oldest=oldest)
        self.rounds += 1
        self.days_refreshed += n
        return n

    def _loop(self) -> None:
        while not self._stop.wait(self.config.interval):
            try:
                n = self.run_once()
            except RETRY_CANDIDATES as exc:
                self._drop_client()
                if not is_transient(exc):
                    log.warning("rollup refresh failed (retried in %gs): %s", self.config.interval,
                                describe_error(exc))
                elif not self.outage:
                    self.outage = True
                    log.warning("rollup refresher: ClickHouse unavailable (%s); retrying every %gs (the views stay "
                                "exact, dirty days are read from the base table)", describe_error(exc),
                                self.config.interval)
                continue
            except Exception:  # noqa: BLE001 - a bug must not end the loop or the sink
                self._drop_client()
                log.exception("rollup refresh failed; retried in %gs", self.config.interval)
                continue
            if self.outage:
                self.outage = False
                log.info("rollup refresher: ClickHouse available again")
            if n:
                log.info("rollup refresher: %d days refreshed", n)

    def _drop_client(self) -> None:
        c, self._client = self._client, None
        if c is not None:
            try:
                c.disconnect()
            except Exception:  # noqa: BLE001 - already broken
                pass
