"""A minimal faust worker for the resume-before-seek reproduction (test_delivery_race.py); run as a script.

One agent on one topic, a table whose changelog needs recovery (so faust takes the path where it resumes the flow
to read changelogs before it seeks the stream partitions), the pipeline's own batching and explicit acks. It
appends "partition offset early" per processed record to --out, `early` = 1 when the record reached the stream
before its partition was sought in the current generation. --seek-delay widens faust's window between resuming
the stream partitions and seeking them; --stock runs faust's consumer instead of pipeline.runtime.faust_compat's."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--datadir", required=True)
    ap.add_argument("--seek-delay", type=float, default=0.0)
    ap.add_argument("--kill-after", type=int, default=0, help="SIGKILL itself after this many records")
    ap.add_argument("--per-record", type=float, default=0.0, help="seconds of work per record")
    ap.add_argument("--stock", action="store_true")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import faust
    from faust.transport.drivers import aiokafka as driver

    from pipeline.runtime import faust_compat
    from pipeline.runtime.outbox import available_batches

    app = faust.App(a.group, broker=f"kafka://{a.bootstrap}", key_serializer="raw", value_serializer="raw",
                    store="memory://", processing_guarantee="at_least_once", consumer_auto_offset_reset="earliest",
                    broker_commit_interval=0.5, web_enabled=False, datadir=a.datadir, autodiscover=False,
                    topic_allow_declare=False, topic_disable_leader=True, stream_buffer_maxsize=4000,
                    broker_session_timeout=10, broker_heartbeat_interval=1)
    base = driver.Consumer if a.stock else faust_compat.safe_consumer_class()

    class Delayed(base):  # type: ignore[misc, valid-type]
        sought_gen = -1

        async def perform_seek(self) -> None:
            if a.seek_delay:
                await asyncio.sleep(a.seek_delay)
            await super().perform_seek()
            self.sought_gen = app.consumer_generation_id

    faust_compat.install(app, Delayed)
    topic = app.topic(a.topic, internal=False)
    app.Table("state", partitions=6, key_type=bytes, value_type=bytes)
    out = open(a.out, "a", buffering=1)
    n = 0

    @app.agent(topic)
    async def run(stream):
        nonlocal n
        async for events in available_batches(stream, 200):
            for e in events:
                early = int(app.consumer.sought_gen != e.message.generation_id)
                out.write(f"{e.message.partition} {e.message.offset} {early}\n")
                if a.per_record:
                    await asyncio.sleep(a.per_record)
            for e in events:
                await stream.ack(e)
            n += len(events)
            if a.kill_after and n >= a.kill_after:
                await asyncio.sleep(1.5)  # let a commit happen
                os.kill(os.getpid(), signal.SIGKILL)

    worker = faust.Worker(app, loglevel="info", quiet=True, redirect_stdouts=False, override_logging=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
