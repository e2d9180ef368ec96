from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.services import ServicesDep
from taskyard.teams.repository import TeamRepository
from taskyard.teams.service import TeamService
from taskyard.users.repository import UserRepository


async def get_team_service(services: ServicesDep, session: DbSession) -> TeamService:
    return TeamService(
        TeamRepository(session),
        UserRepository(session),
        services.response_cache,
        EventPublisher(session, services.wake_relays),
        people_catch_up_seconds=services.people_catch_up_seconds,
    )


TeamServiceDep = Annotated[TeamService, Depends(get_team_service)]
