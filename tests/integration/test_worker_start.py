"""`socialpulse worker` as a user starts it: on a data dir that does not exist yet, as a second worker on the host
of a running stack (docs/operations.md, "More workers on one host"), and with the mistakes that must not end in a
traceback (a port another worker holds, a data dir that cannot be created)."""
from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.codec import encode
from pipeline.contract import topics
from pipeline.domain.identity import author_key
from pipeline.domain.mention import to_iso
from pipeline.ops.services.process import free_port
from pipeline.ops.stack import settings_env
from pipeline.settings import Settings

from .conftest import produce, wait_for_rows

pytestmark = pytest.mark.integration

WORKER = [sys.executable, "-m", "pipeline.cli", "worker"]


def worker_env(s: Settings) -> dict[str, str]:
    env = settings_env(s)
    env["SOCIALPULSE_LOG_LEVEL"] = "info"
    return env


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except OSError:
        return 0, ""


def ingested(metrics: str) -> float:
    m = re.search(r'^socialpulse_stage_messages_total\{outcome="ok",stage="ingest"\} ([0-9.e+]+)$', metrics, re.M)
    return float(m.group(1)) if m else 0.0


def test_a_second_worker_on_a_fresh_data_dir_starts_and_takes_its_share(running_stack, s, tmp_path):
    data_dir = tmp_path / "not" / "there" / "yet"
    s2 = dataclasses.replace(s, data_dir=data_dir, worker_port=free_port())
    log = tmp_path / "second-worker.log"  # outside the data dir: nothing but the worker may create it
    assert not data_dir.exists()
    with log.open("wb") as out:
        proc = subprocess.Popen(WORKER, stdout=out, stderr=subprocess.STDOUT, env=worker_env(s2),
                                start_new_session=True)
    base = f"http://{s2.worker_host}:{s2.worker_port}"
    try:
        deadline = time.monotonic() + 120
        while get(base + "/health")[0] != 200:
            assert proc.poll() is None, f"the worker exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the second worker never became healthy"
            time.sleep(0.3)
        assert (data_dir / "faust").is_dir()

        # Both workers share the group's partitions: mentions of many authors reach ClickHouse, some through it.
        brand = "w2" + uuid.uuid4().hex[:8]
        now = to_iso(datetime.now(timezone.utc))
        sent, deadline = 0, time.monotonic() + 120
        while not ingested(get(base + "/metrics")[1]) and time.monotonic() < deadline:
            # keep sending until the rebalance has handed the new worker some of mentions.raw's partitions
            docs = [{"id": f"{brand}-{i}", "channel": "twitter", "author": f"fan{i % 97}_{brand}", "brand": brand,
                     "text": "Flying out tomorrow morning", "created_at": now} for i in range(sent, sent + 20)]
            produce(s, topics.RAW, [(author_key("twitter", d["author"]).encode(), encode(d)) for d in docs])
            sent += len(docs)
            time.sleep(0.5)
        assert ingested(get(base + "/metrics")[1]) > 0, "the second worker processed nothing"
        rows = wait_for_rows(s, "SELECT count() FROM mentions FINAL WHERE brand = %(b)s", {"b": brand}, [(sent,)],
                             timeout=120)
        assert rows == [(sent,)]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert proc.returncode == 0, text[-3000:]
    assert running_stack.worker.pid() is not None, "the stack's worker keeps running"


def run_cli_worker(s: Settings, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(WORKER, env=worker_env(s), capture_output=True, text=True, timeout=timeout)


def test_a_worker_port_already_taken_is_one_line_not_a_traceback(running_stack, s, tmp_path):
    # Same port as the stack's running worker, as a second worker started without its own port would be.
    out = run_cli_worker(dataclasses.replace(s, data_dir=tmp_path / "w2"))
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert f"worker port {s.worker_host}:{s.worker_port} is already in use" in out.stderr
    assert "SOCIALPULSE_WORKER_PORT" in out.stderr


def test_a_data_dir_that_cannot_be_created_is_one_line_not_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    s = Settings(data_dir=blocker / "data", worker_port=free_port(), kafka_bootstrap=f"127.0.0.1:{free_port()}")
    out = run_cli_worker(s)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert f"cannot create the data dir {Path(blocker / 'data').resolve()}" in out.stderr


def test_the_worker_web_server_answers_health_and_metrics_only(running_stack, s):
    """faust's own views are off: /router/ and /table/ (table contents) and the rest answer 404 to anyone."""
    import urllib.error

    base = f"http://{s.worker_host}:{s.worker_port}"
    assert get(base + "/health")[0] == 200
    status, body = get(base + "/metrics")
    assert status == 200 and "socialpulse_" in body
    for path in ("/router/", "/table/", "/table/detect_history/", "/", "/graph/", "/stats/", "/assignment/",
                 "/performance/"):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as r:
                status = r.status
        except urllib.error.HTTPError as err:
            status = err.code
        assert status == 404, path
