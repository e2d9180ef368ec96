"""Cluster-wide figures for the operations panel, from Prometheus (every instance it scrapes)."""

from __future__ import annotations

import asyncio

from taskyard.ops.repository import PrometheusMetrics
from taskyard.ops.schemas import ClusterOverview, FiringAlert, InstanceState

# The panel's own polling and the probes would otherwise be most of what it shows.
TRAFFIC = 'route!~"/health.*|/metrics"'
WINDOW = "1m"  # live figures: a minute, as the panel's own history is
REQUESTS_PER_SECOND = f"sum(rate(taskyard_http_requests_total{{{TRAFFIC}}}[{WINDOW}]))"
ERROR_RATE = (
    f'sum(rate(taskyard_http_requests_total{{{TRAFFIC},status=~"5.."}}[{WINDOW}])) / '
    f"sum(rate(taskyard_http_requests_total{{{TRAFFIC}}}[{WINDOW}]))"
)
P95_SECONDS = (
    "histogram_quantile(0.95, sum by (le) "
    f"(rate(taskyard_http_request_duration_seconds_bucket{{{TRAFFIC}}}[{WINDOW}])))"
)
# Recorded by deploy/compose/prometheus/taskyard.rules.yml.
AVAILABILITY = "taskyard:availability:ratio_rate1h"
FIGURES = (REQUESTS_PER_SECOND, ERROR_RATE, P95_SECONDS, AVAILABILITY)
INSTANCES_UP = 'up{job="taskyard"}'
INSTANCES_AVAILABLE = "taskyard:instance_available"


class ClusterMetrics:
    def __init__(self, prometheus: PrometheusMetrics | None) -> None:
        self.prometheus = prometheus

    async def overview(self) -> ClusterOverview:
        if self.prometheus is None:
            return ClusterOverview(source="instance")
        prometheus = self.prometheus
        (rate, errors, p95, availability), (up, available), alerts = await asyncio.gather(
            asyncio.gather(
                *map(
                    prometheus.scalar, (REQUESTS_PER_SECOND, ERROR_RATE, P95_SECONDS, AVAILABILITY)
                )
            ),
            asyncio.gather(*map(prometheus.vector, (INSTANCES_UP, INSTANCES_AVAILABLE))),
            prometheus.firing_alerts(),
        )
        ready = {labels.get("instance"): value == 1 for labels, value in available}
        return ClusterOverview(
            source="prometheus",
            requests_per_second=rate,
            error_rate=errors,
            p95_seconds=p95,
            availability=availability,
            instances=sorted(
                (
                    InstanceState(
                        instance=labels.get("instance", ""),
                        service=labels.get("service", ""),
                        up=value == 1,
                        ready=value == 1 and ready.get(labels.get("instance"), False),
                    )
                    for labels, value in up
                ),
                key=lambda state: (state.service, state.instance),
            ),
            alerts=[
                FiringAlert(
                    name=alert.get("labels", {}).get("alertname", ""),
                    severity=alert.get("labels", {}).get("severity"),
                    summary=alert.get("annotations", {}).get("summary"),
                    since=alert.get("activeAt"),
                )
                for alert in alerts
            ],
        )
