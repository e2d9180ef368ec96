from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskyard.auth.repository import AuthRepository
from taskyard.cache.dependencies import ResponseCacheDep
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.users.feed import feed_for
from taskyard.users.repository import UserRepository
from taskyard.users.service import UserService


async def get_user_service(
    request: Request, session: DbSession, cache: ResponseCacheDep
) -> UserService:
    state = request.app.state
    return UserService(
        users=UserRepository(session),
        auth=AuthRepository(session),
        shared=state.shared_tasks(session),
        feed=feed_for(state.settings.service, EventPublisher(session, state.relay_wake)),
        cache=cache,
        identity=state.identity,
        access_ttl_seconds=state.tokens.access_ttl_seconds,
    )


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
