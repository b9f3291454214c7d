"""Prometheus metrics: observed by the agents and the sink through these few objects, exposed on /metrics."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

STAGE_MESSAGES = Counter("socialpulse_stage_messages_total", "Messages handled per stage and outcome",
                         ["stage", "outcome"], registry=REGISTRY)
DEADLETTERS = Counter("socialpulse_deadletters_total", "Inputs sent to mentions.deadletter", ["stage"],
                      registry=REGISTRY)
ALERTS = Counter("socialpulse_alerts_total", "Alerts raised by type and severity", ["type", "severity"],
                 registry=REGISTRY)
SINK_BATCH_ROWS = Histogram("socialpulse_sink_batch_rows", "Rows per ClickHouse insert", ["table"],
                            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000), registry=REGISTRY)
SINK_LATENCY = Histogram("socialpulse_sink_insert_seconds", "ClickHouse insert latency (incl. retries)", ["table"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=REGISTRY)
SINK_ROWS = Counter("socialpulse_sink_rows_total", "Rows inserted into ClickHouse", ["table"], registry=REGISTRY)
SINK_OUTAGES = Counter("socialpulse_sink_outages_total", "ClickHouse outages seen by the sink", registry=REGISTRY)
CONSUMER_LAG = Gauge("socialpulse_consumer_lag", "Messages not yet consumed per topic (all partitions)", ["topic"],
                     registry=REGISTRY)
TABLE_KEYS = Gauge("socialpulse_table_keys", "Keys held in a stage's table (this worker's partitions)", ["table"],
                   registry=REGISTRY)
TABLE_BYTES = Gauge("socialpulse_table_bytes", "Encoded bytes of the values in a stage's table (this worker's "
                    "partitions)", ["table"], registry=REGISTRY)
IDENTITIES = Gauge("socialpulse_identities", "Identities held in the worker's identity table", registry=REGISTRY)
WEBHOOK_DELIVERIES = Counter("socialpulse_webhook_deliveries_total", "Webhook deliveries by outcome", ["outcome"],
                             registry=REGISTRY)
DASHBOARD_CLIENTS = Gauge("socialpulse_dashboard_clients", "Pages connected to the dashboard's live stream",
                          registry=REGISTRY)
DASHBOARD_ACTIONS = Counter("socialpulse_dashboard_actions_total", "Alert actions sent from the dashboard", ["action"],
                            registry=REGISTRY)
HTTP_INGEST = Counter("socialpulse_http_ingest_mentions_total",
                      "Mentions posted to POST /api/mentions and acknowledged by the broker, by outcome "
                      "(accepted: to mentions.raw, rejected: to mentions.deadletter)", ["outcome"], registry=REGISTRY)
HTTP_INGEST_REFUSED = Counter("socialpulse_http_ingest_refused_total",
                              "POST /api/mentions requests refused whole, by HTTP status", ["status"],
                              registry=REGISTRY)
BRANDS_CONFIGURED = Gauge("socialpulse_brands_configured",
                          "Brands in the worker's brands.yml (0: a mention is addressed to a brand only by its channel, a "
                          "care handle, a handle resembling its brand or a learned handle; docs/brands.md)",
                          registry=REGISTRY)
MENTIONS_ADDRESSED = Counter("socialpulse_mentions_addressed_total",
                             "Mentions scored by the first stage, by the rule that made them addressed to a brand "
                             "(channel, configured, care, resembles, learned) or none", ["reason"], registry=REGISTRY)
BRAND_HANDLES_LEARNED = Gauge("socialpulse_brand_handles_learned",
                              "Handles this worker learned per brand from the stream (brands with at least one; "
                              "updated every 30 s)", ["brand"], registry=REGISTRY)
ADDRESSING_REASONS = ("channel", "configured", "care", "resembles", "learned", "none")
BRAND_TOP_HANDLES = Gauge("socialpulse_brand_addressed_handle_mentions",
                          "The handles most addressed by each brand's mentions (top 3 per brand, the brands with the "
                          "most learned handles; approximate lower-bound counts of this worker's learner, every 30 s) — "
                          "`socialpulse brands suggest` turns them into brands.yml", ["brand", "handle"],
                          registry=REGISTRY)
COMPLAINT_PRIOR_ESTIMATE = Gauge("socialpulse_complaint_prior_estimate",
                                 "Complaint share of the channel's recent stream estimated by EM from the complaint "
                                 "scores (what SOCIALPULSE_COMPLAINT_PRIORS=auto applies; docs/complaints.md)",
                                 ["channel"], registry=REGISTRY)


def exposition() -> bytes:
    """The Prometheus text format of every metric above."""
    return generate_latest(REGISTRY)
