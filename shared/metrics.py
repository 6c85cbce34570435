"""Prometheus metrics of every service (served by the gateway at ``/metrics``).

Metric objects are module-level by prometheus_client's design; they hold no
connections. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` makes them per-process
files that ``/metrics`` aggregates.
"""

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_REQUESTS = Counter(
    "kozomol_webhook_requests_total", "Webhook requests by HTTP status", ["status"]
)
WEBHOOK_EVENTS = Counter(
    "kozomol_webhook_events_total",
    "Webhook events by outcome (accepted, duplicate, rejected) and whether the type is known",
    ["outcome", "known_type"],
)
WEBHOOK_DELIVERY = Counter(
    "kozomol_webhook_events_stored_total",
    "Accepted events by where they were made durable (broker or outbox)",
    ["store"],
)
PUBLISH_SECONDS = Histogram(
    "kozomol_publish_seconds", "Time to publish a batch and collect its confirms"
)
OUTBOX_RELAYED = Counter("kozomol_outbox_relayed_total", "Events relayed from the outbox")
OUTBOX_DEPTH = Gauge(
    "kozomol_outbox_depth", "Events waiting in the gateway outbox", multiprocess_mode="max"
)
EVENTS_CONSUMED = Counter(
    "kozomol_events_consumed_total", "Events processed by a service", ["service", "type"]
)
EVENTS_IGNORED = Counter(
    "kozomol_events_ignored_total", "Events of types a service does not handle",
    ["service", "type"],
)
EVENTS_REFUSED = Counter(
    "kozomol_events_refused_total",
    "Events refused because their exchange or envelope source does not fit their type",
    ["service", "door"],
)
EVENT_FAILURES = Counter(
    "kozomol_event_failures_total", "Failed attempts to process a message", ["service"]
)
CONSUMER_OUTAGES = Counter(
    "kozomol_consumer_outages_total",
    "Times a consumer held its deliveries because its database or file store was away",
    ["service"],
)
EVENTS_DEAD_LETTERED = Counter(
    "kozomol_events_dead_lettered_total", "Messages moved to the dead-letter queue", ["service"]
)
