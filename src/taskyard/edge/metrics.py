"""Prometheus metrics, correct with one worker or many (prometheus-client's multiprocess mode).

`taskyard serve --workers N` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the
workers start; each worker then writes its samples there and `/metrics` adds them up.
"""

from __future__ import annotations

import asyncio
import os
import resource
from contextlib import suppress
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)

HTTP_REQUESTS = Counter(
    "taskyard_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "taskyard_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "taskyard_http_requests_in_flight", "HTTP requests being handled", multiprocess_mode="livesum"
)
RATE_LIMIT_REJECTIONS = Counter(
    "taskyard_rate_limit_rejections_total", "Requests refused with 429", ["limit"]
)
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "taskyard_rate_limit_backend_errors_total",
    "Rate-limit checks that failed open because the counter store was unreachable",
)
REDIS_ERRORS = Counter("taskyard_redis_errors_total", "Redis operations that failed", ["operation"])
CACHE_LOOKUPS = Counter(
    "taskyard_cache_lookups_total", "Response-cache lookups", ["view", "result"]
)
CACHE_BACKEND_ERRORS = Counter(
    "taskyard_cache_backend_errors_total",
    "Cache operations that failed, so the database answered",
    ["operation"],
)
DB_READS = Counter(
    "taskyard_db_reads_total",
    "Read sessions by where they went (replica, primary, or a replica that failed)",
    ["target"],
)
DB_POOL_IN_USE = Gauge(
    "taskyard_db_pool_connections_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "taskyard_db_pool_overflow_connections",
    "Connections open beyond the pool size",
    multiprocess_mode="livesum",
)
INSTANCE_READY = Gauge(
    "taskyard_ready",
    "1 while every required component answers (as /health/ready says 200), else 0",
    # The last check in any worker is the instance's state.
    multiprocess_mode="mostrecent",
)
# Process metrics for multiprocess mode, where prometheus-client's own collector can't run.
PROCESS_RSS = Gauge(
    "taskyard_process_resident_memory_bytes", "Resident memory", multiprocess_mode="livesum"
)
PROCESS_CPU = Gauge(
    "taskyard_process_cpu_seconds", "CPU time used (user + system)", multiprocess_mode="livesum"
)
PROCESS_OPEN_FDS = Gauge(
    "taskyard_process_open_fds", "Open file descriptors", multiprocess_mode="livesum"
)

PROCESS_SAMPLE_SECONDS = 5.0


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def metrics_response(_request: Request) -> Response:
    if is_multiprocess():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def instrument_pool(engine: AsyncEngine) -> None:
    pool: Any = engine.sync_engine.pool

    def sample(*_args: Any) -> None:
        DB_POOL_IN_USE.set(pool.checkedout())
        DB_POOL_OVERFLOW.set(max(pool.overflow(), 0))

    event.listen(engine.sync_engine, "checkout", sample)
    event.listen(engine.sync_engine, "checkin", sample)


def _sample_process() -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    PROCESS_CPU.set(usage.ru_utime + usage.ru_stime)
    with suppress(OSError):
        with open("/proc/self/statm") as statm:
            PROCESS_RSS.set(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
        PROCESS_OPEN_FDS.set(len(os.listdir("/proc/self/fd")))


async def sample_process_forever() -> None:
    while True:
        _sample_process()
        await asyncio.sleep(PROCESS_SAMPLE_SECONDS)


def forget_this_process() -> None:
    """Drop this worker's live gauges when it exits, so sums cover live workers only."""
    if is_multiprocess():
        prometheus_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
