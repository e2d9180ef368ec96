from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.db import DbSession
from taskyard.labels.repository import LabelRepository
from taskyard.labels.service import LabelService
from taskyard.projects.dependencies import ProjectServiceDep
from taskyard.services import ServicesDep


async def get_label_service(
    services: ServicesDep, session: DbSession, projects: ProjectServiceDep
) -> LabelService:
    return LabelService(LabelRepository(session), projects, services.response_cache)


LabelServiceDep = Annotated[LabelService, Depends(get_label_service)]
