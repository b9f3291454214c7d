"""faust's fetch loop vs socialpulse's delivery gate (pipeline.runtime.faust_compat), side by side in one minute: an empty
faust agent reads the same pre-loaded topic with each consumer, alternating, each on a fresh consumer group.

    .venv/bin/python scripts/bench_fetch_loop.py --bootstrap 127.0.0.1:9092 [--records 200000] [--rounds 3]"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = "floor." + uuid.uuid4().hex[:8]
    admin = KafkaAdminClient(bootstrap_servers=a.bootstrap)
    admin.create_topics([NewTopic(topic, a.partitions, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=a.bootstrap, acks=1, linger_ms=50, batch_size=1 << 18)
    value = json.dumps({"id": "x", "channel": "twitter", "author": "someone", "text": "the app keeps crashing " * 6})
    for i in range(a.records):
        producer.send(topic, key=f"twitter:user{i % 5000}".encode(), value=value.encode())
    producer.flush()
    producer.close()
    rates: dict[str, list[float]] = {"stock": [], "safe": [], "safe-waitfirst": []}
    for _ in range(a.rounds):
        for consumer in rates:
            out = subprocess.run([sys.executable, "-m", "pipeline.tools.bench.floor_agent", "--bootstrap", a.bootstrap,
                                  "--topic", topic, "--records", str(a.records), "--consumer", consumer],
                                 cwd=ROOT, capture_output=True, text=True, timeout=600)
            line = [ln[ln.index("{"):] for ln in out.stdout.splitlines() if "{" in ln]
            if not line:
                raise SystemExit(f"{consumer} run printed no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
            rates[consumer].append(json.loads(line[-1])["per_s"])
            print(consumer, rates[consumer][-1], flush=True)
    medians = {k: statistics.median(v) for k, v in rates.items()}
    print(json.dumps({"records": a.records, "per_s": rates, "median": medians,
                      "ratio_to_stock": {k: round(v / medians["stock"], 2) for k, v in medians.items()}}))


if __name__ == "__main__":
    main()
