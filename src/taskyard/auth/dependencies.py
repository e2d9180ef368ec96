from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from taskyard.auth.repository import AuthRepository
from taskyard.auth.service import AuthService
from taskyard.db import DbSession
from taskyard.errors import Unauthorized
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.jobs.service import EventPublisher
from taskyard.users.feed import feed_for
from taskyard.users.models import User
from taskyard.users.repository import UserRepository


async def get_auth_service(request: Request, session: DbSession) -> AuthService:
    state = request.app.state
    events = EventPublisher(session, state.relay_wake)
    return AuthService(
        users=UserRepository(session),
        auth=AuthRepository(session),
        shared=state.shared_tasks(session),
        feed=feed_for(state.settings.service, events),
        passwords=state.passwords,
        tokens=state.tokens,
        denylist=state.denylist,
        events=events,
        cache=state.response_cache,
        identity=state.identity,
        limits=state.rate_limits,
        reuse_grace=timedelta(seconds=state.settings.refresh_reuse_grace_seconds),
        challenge=state.challenge_gate,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_current_user(principal: CurrentPrincipal, session: DbSession) -> User:
    """The caller's account itself, for the routes that read or change more than who they are."""
    user = await UserRepository(session).get(principal.user_id)
    if user is None:
        raise Unauthorized("User no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
