"""`socialpulse bench`: throughput and latency of the real pipeline against VADER alone, in one run (I/O).

Runs its own embedded Kafka + ClickHouse in a scratch data dir on free ports (user data is never touched),
measures, and returns one result object; `docs/benchmarks.md` gets the table."""
from __future__ import annotations

import dataclasses
import os
import platform
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import msgspec

from pipeline.settings import Settings
from pipeline.tools.bench.latency import Latency, latency, percentile, send_paced  # noqa: F401 - part of the result


class ScaleOut(msgspec.Struct):
    """Two workers in one consumer group on the same pre-loaded topic: combined rate and each one's share."""

    workers: int
    partitions: int
    per_s: float
    speedup: float  # per_s ÷ one_worker_per_s
    split: list[int]  # mentions scored by each worker (its ingest counter)
    one_worker_per_s: float = 0.0  # the same measurement with the one (warm) worker, just before


class BenchResult(msgspec.Struct):
    vader_only_per_s: float
    pipeline_per_s: float
    ratio: float
    alert_latency_ms: Latency
    queryable_latency_ms: Latency
    worker_peak_rss_mb: float
    identity_recovery_s: float
    complaint_scorer_us: float
    vader_us: float
    mentions: int
    identities: int
    machine: str
    scale_out: Optional[ScaleOut] = None
    rate: float = 1000.0  # mentions/s of the latency run
    faust_floor_per_s: Optional[float] = None  # an empty faust agent (stock settings) on the same pre-loaded topic
    naive_faust_per_s: Optional[float] = None  # the typical faust app: json + VADER + await send per event
    ratio_to_floor: Optional[float] = None  # pipeline_per_s ÷ faust_floor_per_s
    speedup_vs_naive: Optional[float] = None  # pipeline_per_s ÷ naive_faust_per_s
    alert_latency_at_half_ms: Optional[Latency] = None  # at half the measured saturation rate (`half_rate`)
    queryable_latency_at_half_ms: Optional[Latency] = None
    half_rate: Optional[float] = None
    rss_1m_identities_mb: Optional[float] = None  # worker RSS holding `identities` identities (1M by default)
    identity_links_per_s: Optional[float] = None  # identities produced → linked by the running worker, per second


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def vader_only_rate(texts: list[str], min_seconds: float = 3.0) -> tuple[float, float]:
    """Texts/s of bare `polarity_scores` on one core, and µs per text."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    n, started = 0, time.perf_counter()
    while True:
        for t in texts:
            sia.polarity_scores(t)
        n += len(texts)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return n / elapsed, elapsed / n * 1e6


def complaint_scorer_cost(texts: list[str]) -> float:
    """µs per mention of the complaint model alone (sentiment precomputed)."""
    from pipeline.domain.complaints.model import ComplaintModel
    from pipeline.domain.sentiment import score_sentiment

    model = ComplaintModel.load_default()
    pairs = [(t, score_sentiment(t)) for t in texts]
    started = time.perf_counter()
    for t, s in pairs:
        model.score(t, s)
    return (time.perf_counter() - started) / len(pairs) * 1e6


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """A process's peak resident memory (VmHWM), or its current one with field="VmRSS", in MB (0 if gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _bench_settings(base: Settings, data_dir: Path) -> Settings:
    """Scratch servers on free ports; the sample's brands file, as the demo uses it (which mentions address a brand
    decides which can be complaints)."""
    from pipeline.data import sample_dir
    from pipeline.ops.credentials import embedded_clickhouse_settings
    from pipeline.ops.services.process import free_port

    # The scratch ClickHouse has its own generated password (not the user's), resolved here so that every copy of
    # these settings (extra workers' data dirs) carries it.
    return embedded_clickhouse_settings(dataclasses.replace(
        base, data_dir=data_dir, brands_file=str(sample_dir() / "brands.yml"),
        kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_controller_port=free_port(), clickhouse_host="127.0.0.1",
        clickhouse_port=free_port(), clickhouse_http_port=free_port(), clickhouse_user=Settings().clickhouse_user,
        clickhouse_password="", worker_port=free_port(), kafka_embedded=True, clickhouse_embedded=True,
        log_level="warn"))


def _count(c, brand: Optional[str] = None) -> int:
    if brand is None:
        return c.execute("SELECT count() FROM mentions")[0][0]
    return c.execute("SELECT count() FROM mentions WHERE brand = %(b)s", {"b": brand})[0][0]


def run_bench(base: Settings, echo: Callable[[str], None], *, mentions: int = 30000, identities: int = 1_000_000,
              latency_seconds: float = 20.0, rate: float = 1000.0, warmup_seconds: float = 15.0,
              scale_workers: int = 2, keep: bool = False) -> BenchResult:
    """The whole benchmark; see the module docstring."""
    from pipeline.adapters.clickhouse.client import client
    from pipeline.domain.mention import Rejected, decode_mention
    from pipeline.ops.customers import load_customers
    from pipeline.ops.drain import wait_drained
    from pipeline.ops.stack import Stack
    from pipeline.tools.bench.latency import latency_run
    from pipeline.tools.sample.generator import iter_lines, sample_dir

    scratch = Path(tempfile.mkdtemp(prefix="socialpulse-bench-"))
    s = _bench_settings(base, scratch)
    stack = Stack(s)
    docs = []
    for line in iter_lines(sample_dir() / "mentions.jsonl.gz"):
        try:
            decode_mention(line)  # the sample's deliberate junk is not part of the throughput run
        except Rejected:
            continue
        docs.append(msgspec.json.decode(line))
    docs = docs[:mentions]
    texts = [d["text"] for d in docs]
    echo(f"1/6 VADER alone on {len(texts):,} sample texts …")
    vader_rate, vader_us = vader_only_rate(texts)
    scorer_us = complaint_scorer_cost(texts[:5000])
    try:
        echo("2/6 starting embedded Kafka + ClickHouse (scratch dir) …")
        stack.up(lambda _l: None, worker=False)
        load_customers(s, sample_dir() / "customers.jsonl.gz", progress=False)
        preload(s, docs, "bench")
        valid = len(docs)
        unique = len({(d["channel"], d["id"]) for d in docs})
        echo(f"3/6 pipeline at saturation: {valid:,} mentions pre-loaded, starting one worker …")
        pid = stack.start_worker()
        c = client(s)
        target, pipeline_rate = wait_rows(c, unique)
        echo("   baselines on the same pre-loaded topic: an empty faust agent, the typical faust app …")
        floor, naive = faust_baselines(s, valid)
        if latency_seconds <= 0:
            return BenchResult(vader_only_per_s=round(vader_rate, 1), pipeline_per_s=round(pipeline_rate, 1),
                               ratio=round(pipeline_rate / vader_rate, 3), alert_latency_ms=Latency(None, None),
                               queryable_latency_ms=Latency(None, None), worker_peak_rss_mb=round(peak_rss_mb(pid), 1),
                               identity_recovery_s=0.0, complaint_scorer_us=round(scorer_us, 1),
                               vader_us=round(vader_us, 1), mentions=target, identities=0,
                               machine=machine_description(), **compare(pipeline_rate, floor, naive))
        echo(f"4/6 latency at a steady {rate:.0f} mentions/s for {latency_seconds:.0f}s (after {warmup_seconds:.0f}s of "
             "warm-up) …")
        alert_ms, queryable_ms = latency_run(s, docs, rate, latency_seconds, warmup_seconds)
        half = round(pipeline_rate / 2)
        echo(f"   … and at half the measured saturation, {half:,} mentions/s")
        # Each phase starts on a drained pipeline: a backlog left by the previous one (1,000/s can be above
        # saturation) would otherwise count in its latencies or stall its timing.
        wait_drained(s, timeout=600)
        alert_half, queryable_half = latency_run(s, docs, half, latency_seconds, warmup_seconds)
        rss = peak_rss_mb(pid)

        scale = None
        if scale_workers > 1:
            echo(f"5/6 scale-out: {scale_workers} workers, {s.partitions} partitions, {len(docs):,} mentions …")
            wait_drained(s, timeout=600)
            scale = scale_out(s, docs, scale_workers, c)
        echo(f"6/6 identity table recovery for {identities:,} identities, and the running worker linking them …")
        links_base = ingest_count(s.worker_host, s.worker_port, "identities", "link")
        links_started = time.perf_counter()
        recovery = identity_recovery(s, identities)
        link_rate, rss_identities = absorb_identities(s, pid, identities, links_started, links_base)
        c.disconnect()
    finally:
        if not keep:
            stack.down(lambda _l: None)
    return BenchResult(
        vader_only_per_s=round(vader_rate, 1), pipeline_per_s=round(pipeline_rate, 1),
        ratio=round(pipeline_rate / vader_rate, 3),
        alert_latency_ms=alert_ms, queryable_latency_ms=queryable_ms,
        alert_latency_at_half_ms=alert_half, queryable_latency_at_half_ms=queryable_half, half_rate=half,
        worker_peak_rss_mb=round(rss, 1), identity_recovery_s=round(recovery, 2),
        complaint_scorer_us=round(scorer_us, 1), vader_us=round(vader_us, 1), mentions=target, identities=identities,
        machine=machine_description(), scale_out=scale, rate=rate, **compare(pipeline_rate, floor, naive),
        rss_1m_identities_mb=round(rss_identities, 1), identity_links_per_s=round(link_rate, 1))


def faust_baselines(s: Settings, records: int) -> tuple[float, float]:
    """faust's floor (an empty agent) and the typical faust app, each on a fresh consumer group over the
    pre-loaded `mentions.raw`, in the same run as the pipeline (pipeline.tools.bench.floor_agent)."""
    from pipeline.adapters.kafka.admin import kafka_admin
    from pipeline.contract.topics import RAW
    from pipeline.tools.bench.floor_agent import measure

    out = "bench.naive.out"
    admin = kafka_admin(s)
    try:
        from kafka.admin import NewTopic

        if out not in admin.list_topics():
            admin.create_topics([NewTopic(out, s.partitions, s.replication_factor)])
    finally:
        admin.close()
    floor = measure(s.kafka_bootstrap, RAW, records, mode="empty")
    naive = measure(s.kafka_bootstrap, RAW, min(records, 20_000), mode="naive", out_topic=out)
    return floor, naive


def compare(pipeline_rate: float, floor: float, naive: float) -> dict:
    return {"faust_floor_per_s": round(floor, 1), "naive_faust_per_s": round(naive, 1),
            "ratio_to_floor": round(pipeline_rate / floor, 3), "speedup_vs_naive": round(pipeline_rate / naive, 2)}


def preload(s: Settings, docs: list[dict], brand: str, id_prefix: str = "") -> None:
    """Produce every document to `mentions.raw` as fast as the broker takes them, re-branded (and re-id'd with
    `id_prefix`), keyed like any producer would key it."""
    from pipeline.adapters.kafka.config import bulk_producer
    from pipeline.codec import encode
    from pipeline.contract.topics import RAW
    from pipeline.domain.identity import author_key

    with bulk_producer(s, batch_size=1 << 20) as producer:
        for d in docs:
            d = dict(d, brand=brand, id=id_prefix + str(d["id"])) if id_prefix else dict(d, brand=brand)
            producer.send(RAW, key=author_key(d["channel"], d["author"]).encode(), value=encode(d))


def scale_out(s: Settings, docs: list[dict], workers: int, c) -> ScaleOut:
    """The documents pre-loaded again under new ids and timed into ClickHouse from the start of the pre-load (the
    workers consume while it is produced), first with the one running (warm) worker, then after starting
    `workers - 1` more (own ports and state dirs, same group) and waiting until every one holds partitions; each
    worker's share is the growth of its ingest counter. (Comparing with the cold `pipeline_per_s` would flatter
    the scaling: that run includes the worker's first fetches and the broker's warm-up.)"""
    from pipeline.ops.services.process import free_port
    from pipeline.ops.stack import Stack

    unique = len({(d["channel"], d["id"]) for d in docs})

    def timed_run(prefix: str) -> float:
        brand = prefix + uuid.uuid4().hex[:6]
        started = time.perf_counter()
        preload(s, docs, brand, id_prefix=prefix + "-")
        return wait_rows(c, unique, brand, since=started)[1]

    one = timed_run("one")
    extra = [Stack(dataclasses.replace(s, worker_port=free_port(), data_dir=Path(s.data_dir) / f"worker-{i}"))
             for i in range(2, workers + 1)]
    try:
        for st in extra:
            st.start_worker()
        deadline = time.monotonic() + 90
        while group_members(s) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {workers} workers did not all get partitions within 90 s")
            time.sleep(0.5)
        ports = [s.worker_port] + [st.s.worker_port for st in extra]
        before = [ingest_count(s.worker_host, port) for port in ports]
        rate = timed_run("scale")
        split = [ingest_count(s.worker_host, port) - b for port, b in zip(ports, before)]
    finally:
        for st in extra:
            st.worker.terminate(30)
    return ScaleOut(workers=workers, partitions=s.partitions, per_s=round(rate, 1),
                    speedup=round(rate / one, 2) if one else 0.0, split=split, one_worker_per_s=round(one, 1))


def identity_recovery(s: Settings, n: int) -> float:
    """Produce `n` identities, then time a fresh IdentityTable (the worker's code) until it is ready."""
    import asyncio

    from kafka import KafkaProducer

    from pipeline.adapters.kafka.config import kafka_python_config
    from pipeline.codec import encode
    from pipeline.contract.records import Identity
    from pipeline.contract.topics import IDENTITIES
    from pipeline.runtime.identity_table import IdentityTable

    producer = KafkaProducer(**kafka_python_config(s), acks=1, linger_ms=50, batch_size=1 << 20,
                             buffer_memory=256 << 20, compression_type="lz4" if _has_lz4() else None)
    template = Identity(key="", customer_id="", tier="standard", lifetime_value=100.0, followers=10, name="x")
    for i in range(n):
        key = f"twitter:bench_user_{i}"
        producer.send(IDENTITIES, key=key.encode(),
                      value=encode(msgspec.structs.replace(template, key=key, customer_id=f"B{i:07d}")))
    producer.flush()
    producer.close()

    async def recover() -> float:
        table = IdentityTable(s)
        await table.start()
        await table.ready.wait()
        seconds = table.recovery_seconds or 0.0
        await table.stop()
        return seconds

    return asyncio.run(recover())


def ingest_count(host: str, port: int, stage: str = "ingest", outcome: str = "ok") -> int:
    """Records a worker's stage handled so far with that outcome, from its Prometheus endpoint."""
    import urllib.request

    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if (line.startswith("socialpulse_stage_messages_total{") and f'stage="{stage}"' in line
                and f'outcome="{outcome}"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def absorb_identities(s: Settings, pid: int, n: int, started: float, base: int,
                      timeout: float = 600.0) -> tuple[float, float]:
    """Wait until the running worker linked the `n` identities produced since `started` (its identities stage had
    linked `base` before); return (links per second, the worker's RSS in MB with them in its identity table)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = ingest_count(s.worker_host, s.worker_port, "identities", "link")
        if done - base >= n:
            break
        time.sleep(0.5)
    took = time.perf_counter() - started
    time.sleep(2.0)  # the identity table follows the same topic with its own consumer
    return n / took, peak_rss_mb(pid, "VmRSS")


def wait_rows(c, target: int, brand: Optional[str] = None, stall_seconds: float = 30.0,
              since: Optional[float] = None) -> tuple[int, float]:
    """Wait until `target` rows (of `brand`) are in ClickHouse; return (rows, rate), timed from the call (or from
    `since`, a `time.perf_counter()` value) — i.e. from a ready worker to the last row. (Windows inside the run
    flatter a staged pipeline: the first rows reach ClickHouse only after the stages before the sink have worked
    through much of the backlog.) Stops early when nothing new arrived for `stall_seconds`."""
    called = time.perf_counter() if since is None else since
    last, stalled_since = -1, time.perf_counter()
    while True:
        n = _count(c, brand)
        now = time.perf_counter()
        if n >= target:
            break
        if n != last:
            last, stalled_since = n, now
        elif now - stalled_since > stall_seconds:
            target = n  # rows that can never come (invalid inputs): stop waiting
            break
        time.sleep(0.05)
    return target, target / max(time.perf_counter() - called, 1e-6)


def group_members(s: Settings) -> int:
    """Members of the worker's consumer group that hold partitions."""
    from pipeline.adapters.kafka.admin import kafka_admin

    admin = kafka_admin(s)
    try:
        (group,) = admin.describe_consumer_groups([s.app_id])
        return sum(1 for m in group.members if m.member_assignment and m.member_assignment.assignment)
    finally:
        admin.close()


def _has_lz4() -> bool:
    try:
        import lz4  # noqa: F401
        return True
    except ImportError:
        return False
