"""Split mode: the task service's copy of personal API tokens, so it resolves them without a
call to the auth service. The auth service tells it of each token issued and revoked
(`token.*` events through the outbox); a revoked token's login is also ended in the shared
identity store, which refuses it at once on every instance, and in the task service's copy of
revoked sessions, which keeps refusing it after. Kept apart from the token tables' repository,
which reads the auth service's logins: the task service never loads that code."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.api_tokens.events import TOKEN_ISSUED, TOKEN_REVOKED
from taskyard.api_tokens.models import TokenCopy
from taskyard.db import Database, insert_ignoring_conflicts
from taskyard.jobs.registry import EventRegistry, Payload


class TokenCopyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keep(self, values: dict[str, object]) -> None:
        """Idempotent: a redelivered event changes nothing."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, TokenCopy).values(values)
        )

    async def forget(self, token_id: uuid.UUID) -> None:
        await self.session.execute(delete(TokenCopy).where(TokenCopy.token_id == token_id))

    async def by_hash(self, token_hash: str) -> TokenCopy | None:
        return await self.session.scalar(
            select(TokenCopy).where(TokenCopy.token_hash == token_hash)
        )


class CopiedTokens:
    """The task service's `TokenLookup`: its copy, by hash."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def find(self, token_hash: str) -> TokenCopy | None:
        async with self.database.session(write=False) as session:
            return await TokenCopyRepository(session).by_hash(token_hash)


async def _issued(session: AsyncSession, payload: Payload) -> None:
    expires = payload.get("expires_at")
    await TokenCopyRepository(session).keep(
        {
            "token_hash": payload["token_hash"],
            "token_id": uuid.UUID(payload["token_id"]),
            "session_id": uuid.UUID(payload["session_id"]),
            "user_id": uuid.UUID(payload["user_id"]),
            "scopes": payload["scopes"],
            "expires_at": datetime.fromisoformat(expires) if expires else None,
        }
    )


async def _revoked(session: AsyncSession, payload: Payload) -> None:
    await TokenCopyRepository(session).forget(uuid.UUID(payload["token_id"]))


def register(registry: EventRegistry) -> None:
    registry.on_work(TOKEN_ISSUED, _issued)
    registry.on_work(TOKEN_REVOKED, _revoked)
