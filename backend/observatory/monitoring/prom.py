"""Prometheus metrics (``prometheus-client``), safe across uvicorn worker processes.

With several workers, ``observatory serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an empty
directory before the workers start; each process then writes its samples to files there and
``/metrics`` (answered by any one worker) merges them. Gauges say how they merge: ``livesum``
adds up live processes (pool use, subscribers), ``mostrecent`` keeps the last value written
(database-derived gauges, written by whichever worker evaluated last).
"""

from __future__ import annotations

import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _mp

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
P = "observatory_"

# GraphQL requests: 5 ms .. 10 s
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

graphql_seconds = Histogram(
    P + "graphql_operation_seconds",
    "GraphQL operation latency by operation name and type.",
    ["operation", "type"],
    buckets=_LATENCY,
)
graphql_errors = Counter(P + "graphql_errors_total", "GraphQL errors by extensions.code.", ["code"])
db_pool_checked_out = Gauge(
    P + "db_pool_connections_in_use",
    "Connections checked out of the SQLAlchemy pool.",
    multiprocess_mode="livesum",
)
db_pool_size = Gauge(
    P + "db_pool_connections_open", "Connections held by the pool.", multiprocess_mode="livesum"
)
sync_pass_seconds = Histogram(
    P + "sync_pass_seconds",
    "Duration of one sync pass over a source.",
    ["source", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
sync_lag_seconds = Gauge(
    P + "sync_lag_seconds",
    "Seconds since a source last synced successfully.",
    ["source"],
    multiprocess_mode="mostrecent",
)
sessions_synced = Counter(P + "sessions_synced_total", "Sessions written by sync.", ["source"])
event_delay_seconds = Histogram(
    P + "event_delivery_delay_seconds",
    "From the writing transaction's start to the NOTIFY reaching this worker's hub.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
subscribers = Gauge(
    P + "subscribers", "Open subscriptions (live feeds).", multiprocess_mode="livesum"
)
review_jobs = Gauge(
    P + "review_jobs",
    "AI review jobs by status.",
    ["status"],
    multiprocess_mode="mostrecent",
)
ai_tokens = Counter(P + "ai_review_tokens_total", "Tokens used by the AI reviewer.", ["direction"])
ai_cost = Counter(P + "ai_review_cost_usd_total", "USD spent by the AI reviewer (where priced).")
alerts_firing = Gauge(
    P + "alerts_firing", "Alerts currently firing.", multiprocess_mode="mostrecent"
)
outbox_deliveries = Counter(
    P + "outbox_deliveries_total", "Webhook delivery attempts by result.", ["result"]
)


def count_ai_usage(
    input_tokens: int | None, output_tokens: int | None, cost: Decimal | None
) -> None:
    if input_tokens:
        ai_tokens.labels("input").inc(input_tokens)
    if output_tokens:
        ai_tokens.labels("output").inc(output_tokens)
    if cost is not None:
        ai_cost.inc(float(cost))


_NAME = re.compile(r"[^A-Za-z0-9_]")
_MAX_NAMES = 200
_seen: set[str] = set()


def operation_label(name: str | None) -> str:
    """Clients pick operation names: bound the label's cardinality (charset, length, count)."""
    if not name:
        return "anonymous"
    label = _NAME.sub("_", name)[:64]
    if label not in _seen:
        if len(_seen) >= _MAX_NAMES:
            return "other"
        _seen.add(label)
    return label


def prepare_multiprocess_metrics(data_dir: Path) -> Path:
    """Before uvicorn forks its workers: an empty sample directory they all write to (unless
    the operator set ``PROMETHEUS_MULTIPROC_DIR`` already). Emptied on every start: samples
    of processes from an earlier run must not add up with the new ones."""
    given = os.environ.get(MULTIPROC_ENV)
    path = Path(given) if given else data_dir / "prometheus"
    if path.is_dir():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def process_exiting() -> None:
    """A worker stopping: drop its live gauges (pool use, subscribers) from the merged view."""
    if os.environ.get(MULTIPROC_ENV):
        _mp.mark_process_dead(os.getpid())


def exposition() -> tuple[bytes, str]:
    """The scrape body: merged over worker processes when multiprocess mode is on."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _mp.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
