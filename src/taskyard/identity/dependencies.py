"""The caller as a FastAPI dependency, for every domain's routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taskyard.db import DbSession
from taskyard.errors import Forbidden
from taskyard.identity.authenticator import Authenticator
from taskyard.identity.roles import Role
from taskyard.identity.store import Principal, prefetched, require_claims

_bearer = HTTPBearer(auto_error=False, description="The `token` from login, register or refresh")


async def get_principal(
    request: Request,
    session: DbSession,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, resolved from the token verified once for this request (`_credentials` only
    puts the bearer scheme in the OpenAPI document). Accounts are read, when the identity store
    doesn't know them, from whatever the app wired as `account_states`."""
    state = request.app.state
    claims = await require_claims(request.scope, state.verifier)
    authenticator: Authenticator = state.authenticator
    principal = await authenticator.authenticate(
        claims, state.account_states(session), prefetched(request.scope)
    )
    request.state.user_id = str(principal.user_id)  # for the access log line
    return principal


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
