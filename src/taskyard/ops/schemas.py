from __future__ import annotations

from typing import Literal

from taskyard.schemas import APIModel


class InstanceState(APIModel):
    instance: str
    service: str
    up: bool  # its last scrape succeeded
    ready: bool  # and found its required components up


class FiringAlert(APIModel):
    name: str
    severity: str | None
    summary: str | None
    since: str | None


class ClusterOverview(APIModel):
    """What the operations panel shows. `source` "instance": no Prometheus is configured, so
    the panel reads this instance's own /metrics, and every figure here is null."""

    source: Literal["prometheus", "instance"]
    requests_per_second: float | None = None
    p95_seconds: float | None = None
    error_rate: float | None = None
    # The SLI over the last hour: the share of scrapes that found an instance ready.
    availability: float | None = None
    instances: list[InstanceState] = []
    alerts: list[FiringAlert] = []
