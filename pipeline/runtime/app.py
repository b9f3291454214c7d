"""The Faust application and its topic declarations — no agents (they register themselves: `agents.build_worker`),
no business logic."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Optional

import faust

from pipeline.adapters.kafka.config import faust_broker_config
from pipeline.contract import topics
from pipeline.domain.escalation import EscalationConfig
from pipeline.domain.spikes import SpikeConfig
from pipeline.runtime import faust_compat
from pipeline.settings import Settings


if TYPE_CHECKING:  # the services the agents register (they import nothing of this module)
    from pipeline.adapters.webhooks import WebhookDispatcher
    from pipeline.runtime.identity_table import IdentityTable
    from pipeline.runtime.sink import SinkService

def escalation_config(s: Settings) -> EscalationConfig:
    return EscalationConfig(window_days=s.complaint_window_days, repeat_min=s.repeat_complaint_min,
                            cooldown_minutes=s.alert_cooldown_minutes, vip_tiers=s.vip_tier_set,
                            vip_lifetime_value=s.vip_lifetime_value, vip_influence=s.vip_influence)


def spike_config(s: Settings) -> SpikeConfig:
    return SpikeConfig(baseline_hours=s.spike_baseline_hours, sigma=s.spike_sigma, min_count=s.spike_min_count,
                       allowed_lateness=s.spike_allowed_lateness)


def now_iso() -> str:
    from pipeline.domain.mention import to_iso
    return to_iso(datetime.now(timezone.utc))


@dataclass
class Health:
    """What the worker's /health reports besides the identity table: parts that stopped on an error."""

    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, part: str, exc: BaseException) -> None:
        self.failures[part] = f"{type(exc).__name__}: {exc}"[:300]

    def reporter(self, part: str):
        """`on_failure` for `completed_batches`: records `part` as failed."""
        return lambda exc: self.fail(part, exc)


@dataclass
class Pipeline:
    """Everything the agents share in one worker: the app, its topics and tables, and the adapters."""

    settings: Settings
    app: faust.App
    topics: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    identities: Optional[IdentityTable] = None  # registered by agents.ingest
    sink: Optional[SinkService] = None          # agents.sink
    webhooks: Optional[WebhookDispatcher] = None  # agents.webhooks, when SOCIALPULSE_WEBHOOK_URLS is set
    health: Health = field(default_factory=Health)

    def topic(self, name: str):
        return self.topics[name]


def create_app(s: Settings) -> Pipeline:
    """The Faust app for these settings with its topics declared; the agents register on it (`agents.build_worker`)."""
    faust_compat.check_versions()
    faust_compat.short_fetch_wait(25)
    app = faust.App(
        s.app_id,
        **faust_broker_config(s),
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=s.partitions,
        topic_replication_factor=s.replication_factor,
        topic_allow_declare=True,
        topic_disable_leader=True,
        store="memory://",
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        broker_commit_every=10_000,
        producer_acks=-1,
        producer_linger_ms=0,
        producer_max_batch_size=1 << 20,
        producer_max_request_size=4 << 20,
        consumer_max_fetch_size=1 << 20,  # per partition; a larger record is still returned whole (KIP-74)
        stream_buffer_maxsize=16384,
        stream_wait_empty=False,
        table_standby_replicas=0,
        web_enabled=True,
        web_bind=s.worker_host,
        web_host=s.worker_host,
        web_port=s.worker_port,
        web_in_thread=False,
        # faust's own views (/router/, /table/ with table contents, /graph/, /stats/…) stay off: the worker's web
        # server answers /health and /metrics only (agents/worker_http.py); see also faust_compat.only_own_views.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_metrics_enabled=False,
        datadir=str(s.data_dir / "faust"),
        autodiscover=False,
        logging_config=None,
    )
    faust_compat.install(app)  # the delivery gate: docs/guarantees.md, "Offsets"
    p = Pipeline(settings=s, app=app)
    # Public and internal topics: created by `socialpulse up` (pipeline.contract.topics); declared here without creation.
    for name in (topics.RAW, topics.IDENTITIES, topics.BY_CUSTOMER, topics.ENRICHED, topics.ALERTS, topics.ACTIONS,
                 topics.DEADLETTER, topics.NEGATIVES):
        p.topics[name] = app.topic(name, partitions=s.partitions, internal=False)

    return p
