"""The caller as a FastAPI dependency, for every domain's routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.access_tokens import AccessClaims
from taskyard.db import DbSession
from taskyard.errors import Forbidden
from taskyard.identity.caller import caller_of
from taskyard.identity.roles import Role
from taskyard.identity.store import KnownState, Principal
from taskyard.services import Services, ServicesDep

_bearer = HTTPBearer(auto_error=False, description="The `token` from login, register or refresh")


async def get_principal(
    request: Request,
    services: ServicesDep,
    session: DbSession,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, as the caller layer found them; when the identity store alone could not vouch
    for them, checked against the accounts (`account_states`, as the app wired them).
    `_credentials` only puts the bearer scheme in the OpenAPI document."""
    caller = caller_of(request.scope)
    principal = caller.principal or await principal_for(
        services, caller.require_claims(), caller.known, session
    )
    request.state.user_id = str(principal.user_id)  # for the access log line
    return principal


async def principal_for(
    services: Services, claims: AccessClaims, known: KnownState | None, session: AsyncSession
) -> Principal:
    """The caller behind verified claims, checked against the accounts as the app wired them."""
    return await services.authenticator.authenticate(
        claims, services.account_states(session), known
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the given roles, as stored now (not as the token says)."""
    allowed = frozenset(Role(role) for role in roles)

    async def check_role(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden()
        return principal

    return check_role


AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]
