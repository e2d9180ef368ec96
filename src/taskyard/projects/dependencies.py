from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.projects.repository import ProjectRepository
from taskyard.projects.service import ProjectService
from taskyard.services import ServicesDep
from taskyard.teams.repository import TeamRepository
from taskyard.users.repository import UserRepository


async def get_project_service(services: ServicesDep, session: DbSession) -> ProjectService:
    return ProjectService(
        ProjectRepository(session),
        UserRepository(session),
        TeamRepository(session),
        services.response_cache,
        EventPublisher(session, services.wake_relays),
        people_catch_up_seconds=services.people_catch_up_seconds,
    )


ProjectServiceDep = Annotated[ProjectService, Depends(get_project_service)]
