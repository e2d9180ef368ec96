from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskyard.ops.repository import PrometheusMetrics
from taskyard.ops.service import ClusterMetrics


def get_cluster_metrics(request: Request) -> ClusterMetrics:
    client = request.app.state.prometheus
    return ClusterMetrics(PrometheusMetrics(client) if client is not None else None)


ClusterMetricsDep = Annotated[ClusterMetrics, Depends(get_cluster_metrics)]
