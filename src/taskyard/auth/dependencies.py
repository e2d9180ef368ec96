from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taskyard.auth.repository import AuthRepository
from taskyard.auth.service import AuthService
from taskyard.auth.tokens import AccessClaims
from taskyard.db import DbSession
from taskyard.errors import Forbidden, Unauthorized
from taskyard.jobs.service import EventPublisher
from taskyard.users.models import Role, User
from taskyard.users.repository import UserRepository

_bearer = HTTPBearer(auto_error=False, description="The `token` from login, register or refresh")


async def get_auth_service(request: Request, session: DbSession) -> AuthService:
    state = request.app.state
    return AuthService(
        users=UserRepository(session),
        auth=AuthRepository(session),
        passwords=state.passwords,
        tokens=state.tokens,
        denylist=state.denylist,
        events=EventPublisher(session, state.relay_wake),
        cache=state.response_cache,
        limits=state.rate_limits,
        reuse_grace=timedelta(seconds=state.settings.refresh_reuse_grace_seconds),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    claims: AccessClaims


async def get_principal(
    request: Request,
    service: AuthServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Not authorized, no token")
    user, claims = await service.authenticate(credentials.credentials)
    request.state.user_id = str(user.id)  # for the access log line
    return Principal(user=user, claims=claims)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: str) -> Callable[[User], Awaitable[User]]:
    """A dependency admitting only the given roles, as stored now (not as the token says)."""
    allowed = frozenset(Role(role) for role in roles)

    async def check_role(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden()
        return user

    return check_role


AdminUser = Annotated[User, Depends(require_role("admin"))]
