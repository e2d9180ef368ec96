from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.auth.repository import AuthRepository
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.services import ServicesDep
from taskyard.users.repository import UserRepository
from taskyard.users.service import UserService


async def get_user_service(services: ServicesDep, session: DbSession) -> UserService:
    return UserService(
        users=UserRepository(session),
        auth=AuthRepository(session),
        shared=services.shared_tasks(session),
        feed=services.account_feed(EventPublisher(session, services.wake_relays)),
        cache=services.response_cache,
        identity=services.identity,
        access_ttl_seconds=services.require_accounts().tokens.access_ttl_seconds,
    )


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
