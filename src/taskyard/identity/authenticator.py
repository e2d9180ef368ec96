"""Turning verified token claims into the caller: the identity store first, then whoever holds
the accounts (the auth database in the monolith and the auth service; the task service's read
model of users in split mode)."""

from __future__ import annotations

from typing import Protocol

from taskyard.access_tokens import AccessClaims
from taskyard.errors import Unauthorized
from taskyard.identity.denylist import TokenDenylist
from taskyard.identity.roles import Role
from taskyard.identity.store import (
    AccountState,
    CacheVersion,
    IdentityStore,
    KnownState,
    Principal,
)


class AccountDeactivated(Unauthorized):
    message = "Account is deactivated"


class SessionRevoked(Unauthorized):
    message = "Session has been revoked"


class AccountStates(Protocol):
    async def account_state(self, claims: AccessClaims) -> AccountState | None:
        """The caller behind `claims` as stored, or None when there is no such account."""
        ...


class Authenticator:
    """Turns verified token claims into the caller, asking the database only for what the
    identity store doesn't know. Cheap to call: it runs on every authenticated request."""

    def __init__(self, identity: IdentityStore, denylist: TokenDenylist) -> None:
        self.identity = identity
        self.denylist = denylist

    async def authenticate(
        self,
        claims: AccessClaims,
        accounts: AccountStates,
        known: KnownState | None,
    ) -> Principal:
        """The caller behind verified claims, checked against what the identity store knows
        (`known`, as the caller layer read it) and, for whatever it doesn't, the database."""
        if await self._revoked(claims, known):
            raise SessionRevoked()
        role = known.role if known else None
        active = known.active if known else None
        session_open = known_open = known.session_open if known else None
        if role is None or active is None or session_open is None:
            found = await accounts.account_state(claims)
            if found is None:
                raise Unauthorized("User no longer exists")
            role, active, session_open = found.role, found.active, found.session_open
            # A session the store knows is revoked stays revoked, whatever the accounts say: the
            # split task service's copy of people knows no sessions, only the store does.
            session_open = session_open and known_open is not False
            if session_open:
                await self.identity.remember(claims.user_id, found, claims.session_id)
        if not active:
            raise AccountDeactivated()
        if not session_open:
            raise SessionRevoked()
        return _principal(claims, role, known.cache_version if known is not None else None)

    async def vouch(self, claims: AccessClaims, known: KnownState | None) -> Principal | None:
        """The caller when the identity store alone shows them in good standing; None when the
        database must be asked, or the request refused (`authenticate` then says why)."""
        if known is None or known.role is None or not known.active or not known.session_open:
            return None
        if await self._revoked(claims, known):
            return None
        return _principal(claims, known.role, known.cache_version)

    async def _revoked(self, claims: AccessClaims, known: KnownState | None) -> bool:
        if known is not None and known.token_revoked:
            return True
        # A shared store reads the denylist with the rest; otherwise the denylist answers.
        return not self.identity.shared and await self.denylist.contains(claims.jti)


def _principal(claims: AccessClaims, role: Role, cache_version: CacheVersion | None) -> Principal:
    return Principal(
        user_id=claims.user_id,
        session_id=claims.session_id,
        # Admin rights never pass to a personal API token.
        role=role if claims.scopes is None else Role.USER,
        jti=claims.jti,
        expires_at=claims.expires_at,
        cache_version=cache_version,
        scopes=claims.scopes,
    )
