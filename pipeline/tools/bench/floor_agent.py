"""The framework's own floor and the typical faust app, run as their own process (a faust worker owns its process
and event loop), on a pre-loaded topic. Prints one JSON line {"records", "seconds", "per_s", ...} timed from the
first record to the last, then exits. Used by the benchmarks to put the pipeline's speed next to faust's.

- `--mode empty`: an empty agent (`async for _ in stream`), the fastest a faust app can consume;
- `--mode naive`: the typical hand-written faust app: one agent, `json.loads` + VADER + `await topic.send` per event.

    python -m pipeline.tools.bench.floor_agent --bootstrap HOST:PORT --topic T --records N [--mode empty|naive]
                                   [--consumer stock|safe]"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def measure(bootstrap: str, topic: str, records: int, *, mode: str = "empty", consumer: str = "stock",
            out_topic: str = "", timeout: float = 600.0) -> float:
    """Run this module as a subprocess on a pre-loaded topic (a fresh consumer group); return its records/s."""
    import subprocess
    import sys
    from pathlib import Path

    argv = [sys.executable, "-m", "pipeline.tools.bench.floor_agent", "--bootstrap", bootstrap, "--topic", topic, "--records",
            str(records), "--mode", mode, "--consumer", consumer] + (["--out-topic", out_topic] if out_topic else [])
    done = subprocess.run(argv, cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True,
                          timeout=timeout)
    lines = [ln[ln.index("{"):] for ln in done.stdout.splitlines() if "{" in ln]  # after the terminal's escapes
    if not lines:
        raise RuntimeError(f"the {mode} faust agent printed no result (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout)[-600:]}")
    return float(json.loads(lines[-1])["per_s"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m pipeline.tools.bench.floor_agent", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers")
    ap.add_argument("--topic", required=True, help="a pre-loaded topic")
    ap.add_argument("--records", type=int, required=True, help="records to read before stopping")
    ap.add_argument("--consumer", choices=("stock", "safe", "safe-waitfirst"), default="stock",
                    help="faust's own consumer, or socialpulse's delivery gate (pipeline.runtime.faust_compat), optionally "
                         "with faust's per-record wait_first delivery instead of the eager one")
    ap.add_argument("--group", default="", help="consumer group (default: a fresh one)")
    ap.add_argument("--mode", choices=("empty", "naive"), default="empty", help="what the agent does per event")
    ap.add_argument("--out-topic", default="", help="where the naive agent sends its results (default: TOPIC.out)")
    a = ap.parse_args(argv)
    import faust

    from pipeline.runtime import faust_compat

    group = a.group or f"floor-{os.getpid()}-{int(time.time())}"
    app = faust.App(group, broker=f"kafka://{a.bootstrap}", key_serializer="raw", value_serializer="raw",
                    store="memory://", consumer_auto_offset_reset="earliest", web_enabled=False,
                    datadir=tempfile.mkdtemp(prefix="floor-"), autodiscover=False, topic_allow_declare=False,
                    topic_disable_leader=True)
    if a.consumer == "safe":
        faust_compat.install(app)
    elif a.consumer == "safe-waitfirst":
        faust_compat.install(app, type("WaitFirst", (faust_compat.safe_consumer_class(),), {"eager": False}))
    topic = app.topic(a.topic, internal=False)
    state = {"n": 0, "first": 0.0}

    def count() -> None:
        state["n"] += 1
        if state["n"] == 1:
            state["first"] = time.perf_counter()
        elif state["n"] >= a.records:
            took = time.perf_counter() - state["first"]
            print(json.dumps({"records": a.records, "seconds": round(took, 3), "per_s": round((a.records - 1) / took, 1),
                              "mode": a.mode, "consumer": a.consumer}), flush=True)
            os._exit(0)

    if a.mode == "empty":
        @app.agent(topic)
        async def empty(stream):
            async for _ in stream:
                count()
    else:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        out = app.topic(a.out_topic or f"{a.topic}.out", internal=False)

        @app.agent(topic)
        async def naive(stream):
            async for event in stream.events():
                doc = json.loads(event.value)
                doc["sentiment"] = analyzer.polarity_scores(doc.get("text", ""))
                await out.send(key=event.key, value=json.dumps(doc).encode())
                count()

    worker = faust.Worker(app, loglevel="error", quiet=True, redirect_stdouts=False, override_logging=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
