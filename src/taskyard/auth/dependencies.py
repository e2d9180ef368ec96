from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.auth.repository import AuthRepository
from taskyard.auth.service import AuthService
from taskyard.db import DbSession
from taskyard.errors import Unauthorized
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.jobs.service import EventPublisher
from taskyard.services import Services, ServicesDep
from taskyard.users.models import User
from taskyard.users.repository import UserRepository


async def get_auth_service(services: ServicesDep, session: DbSession) -> AuthService:
    return auth_service_for(services, session)


def auth_service_for(services: Services, session: AsyncSession) -> AuthService:
    """The auth service on `session`: a request's, or a command's."""
    accounts = services.require_accounts()
    events = EventPublisher(session, services.wake_relays)
    return AuthService(
        users=UserRepository(session),
        auth=AuthRepository(session),
        shared=services.shared_tasks(session),
        feed=services.account_feed(events),
        passwords=accounts.passwords,
        tokens=accounts.tokens,
        denylist=services.denylist,
        events=events,
        cache=services.response_cache,
        identity=services.identity,
        limits=services.rate_limits,
        reuse_grace=timedelta(seconds=services.settings.refresh_reuse_grace_seconds),
        challenge=accounts.challenge_gate,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_current_user(principal: CurrentPrincipal, session: DbSession) -> User:
    """The caller's account itself, for the routes that read or change more than who they are."""
    user = await UserRepository(session).get(principal.user_id)
    if user is None:
        raise Unauthorized("User no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
