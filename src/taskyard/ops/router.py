from __future__ import annotations

from fastapi import APIRouter, Depends

from taskyard.errors import documented_errors
from taskyard.identity.dependencies import require_role
from taskyard.ops.dependencies import ClusterMetricsDep
from taskyard.ops.schemas import ClusterOverview
from taskyard.schemas import DataEnvelope

router = APIRouter(
    prefix="/ops",
    tags=["operations"],
    dependencies=[Depends(require_role("admin"))],
    responses=documented_errors(401, 403),
)


@router.get("/cluster", responses=documented_errors(502))
async def cluster_overview(metrics: ClusterMetricsDep) -> DataEnvelope[ClusterOverview]:
    """Every instance's figures from Prometheus (TASKYARD_PROMETHEUS_URL); without it, `source`
    is "instance" and the panel reads this instance's /metrics."""
    return DataEnvelope(data=await metrics.overview())
