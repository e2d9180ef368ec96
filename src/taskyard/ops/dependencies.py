from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.ops.repository import PrometheusMetrics
from taskyard.ops.service import ClusterMetrics
from taskyard.services import ServicesDep


async def get_cluster_metrics(services: ServicesDep) -> ClusterMetrics:
    client = services.prometheus
    return ClusterMetrics(PrometheusMetrics(client) if client is not None else None)


ClusterMetricsDep = Annotated[ClusterMetrics, Depends(get_cluster_metrics)]
