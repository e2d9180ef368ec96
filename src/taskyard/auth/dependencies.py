from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taskyard.auth.repository import AuthRepository
from taskyard.auth.service import Authenticator, AuthService
from taskyard.db import DbSession
from taskyard.errors import Forbidden, Unauthorized
from taskyard.identity import Principal, prefetched, require_claims
from taskyard.jobs.service import EventPublisher
from taskyard.users.models import Role, User
from taskyard.users.repository import UserRepository

_bearer = HTTPBearer(auto_error=False, description="The `token` from login, register or refresh")


async def get_auth_service(request: Request, session: DbSession) -> AuthService:
    state = request.app.state
    return AuthService(
        users=UserRepository(session),
        auth=AuthRepository(session),
        shared=state.shared_tasks(session),
        passwords=state.passwords,
        tokens=state.tokens,
        denylist=state.denylist,
        events=EventPublisher(session, state.relay_wake),
        cache=state.response_cache,
        identity=state.identity,
        limits=state.rate_limits,
        reuse_grace=timedelta(seconds=state.settings.refresh_reuse_grace_seconds),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_principal(
    request: Request,
    session: DbSession,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, resolved from the token verified once for this request (`_credentials` only
    puts the bearer scheme in the OpenAPI document)."""
    state = request.app.state
    claims = await require_claims(request.scope, state.verifier)
    authenticator: Authenticator = state.authenticator
    principal = await authenticator.authenticate(
        claims, AuthRepository(session), prefetched(request.scope)
    )
    request.state.user_id = str(principal.user_id)  # for the access log line
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal, session: DbSession) -> User:
    """The caller's account itself, for the routes that read or change more than who they are."""
    user = await UserRepository(session).get(principal.user_id)
    if user is None:
        raise Unauthorized("User no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the given roles, as stored now (not as the token says)."""
    allowed = frozenset(Role(role) for role in roles)

    async def check_role(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden()
        return principal

    return check_role


AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]
