"""Resolving a personal API token (`ty_pat_…`) into claims: by its hash in the database on its
first use on an instance, then from memory. Whether its login is still open is the identity
layer's check on every request, as for any login: a revoked token is refused on its next
request on every instance, and so is every token of a deactivated person."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from taskyard.access_tokens import AccessClaims, ExpiredToken, InvalidToken, TokenVerifier
from taskyard.db import Database

TOKEN_PREFIX = "ty_pat_"  # noqa: S105 (a marker, not a secret)
# A token without an expiry: its claims need one.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
MEMO_SIZE = 4096


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FoundToken:
    token_id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    scopes: str  # comma-separated
    expires_at: datetime | None


class TokenLookup(Protocol):
    async def find(self, digest: str) -> FoundToken | None:
        """The usable token with this hash, or None."""
        ...


class StoredTokens:
    """Where the tokens are kept (the monolith, the auth service): noting each first use."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def find(self, digest: str) -> FoundToken | None:
        from taskyard.api_tokens.repository import ApiTokenRepository  # reads the auth tables

        async with self.database.session(write=True) as session:
            tokens = ApiTokenRepository(session)
            found = await tokens.usable(digest)
            if found is None:
                return None
            await tokens.used_now(found.id)
            await session.commit()
        return FoundToken(found.id, found.session_id, found.user_id, found.scopes, found.expires_at)


class CopiedTokenLookup:
    """Split mode's task service: its copy of the tokens (`api_tokens.copies`)."""

    def __init__(self, database: Database) -> None:
        from taskyard.api_tokens.copies import CopiedTokens

        self.copies = CopiedTokens(database)

    async def find(self, digest: str) -> FoundToken | None:
        copy = await self.copies.find(digest)
        if copy is None:
            return None
        return FoundToken(
            copy.token_id, copy.session_id, copy.user_id, copy.scopes, copy.expires_at
        )


class PersonalTokenVerifier:
    """A login's access tokens go to `inner`; personal API tokens are looked up (`lookup`) on
    their first use on an instance, then remembered."""

    def __init__(self, inner: TokenVerifier, lookup: TokenLookup) -> None:
        self.inner = inner
        self.lookup = lookup
        self.fetches_keys = inner.fetches_keys
        self._known: dict[str, AccessClaims] = {}

    async def warm(self) -> None:
        await self.inner.warm()

    async def verify(self, token: str) -> AccessClaims:
        if not token.startswith(TOKEN_PREFIX):
            return await self.inner.verify(token)
        digest = token_hash(token)
        claims = self._known.get(digest) or await self._look_up(digest)
        if claims.expires_at.timestamp() <= time.time():
            raise ExpiredToken()
        return claims

    async def _look_up(self, digest: str) -> AccessClaims:
        found = await self.lookup.find(digest)
        if found is None:
            raise InvalidToken()
        claims = AccessClaims(
            user_id=found.user_id,
            session_id=found.session_id,
            role="user",
            jti=f"pat:{found.token_id}",
            expires_at=found.expires_at or NEVER,
            scopes=frozenset(found.scopes.split(",")),
        )
        if len(self._known) >= MEMO_SIZE:
            self._known.clear()
        self._known[digest] = claims
        return claims
