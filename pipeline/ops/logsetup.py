"""The CLI's logging: records to stderr at the configured level (kept out of `pipeline.cli`, which holds commands)."""
from __future__ import annotations

import logging
import sys

from pipeline.settings import Settings


def configure_logging(s: Settings) -> None:
    level = {"warn": "WARNING", "crit": "CRITICAL"}.get(s.log_level.lower(), s.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    # Client libraries log every refused connection attempt (e.g. while a server starts) at ERROR: we report
    # outages ourselves, once, so keep theirs for debug runs only.
    quiet = logging.DEBUG if level == "DEBUG" else logging.CRITICAL
    for noisy in ("kafka", "aiokafka", "clickhouse_driver"):
        logging.getLogger(noisy).setLevel(quiet)
