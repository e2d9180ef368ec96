from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.api_tokens.models import ApiToken
from taskyard.auth.models import AuthSession
from taskyard.db import utc_now


class ApiTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def of_user(self, user_id: uuid.UUID) -> Sequence[ApiToken]:
        return (
            await self.session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user_id)
                .order_by(ApiToken.created_at.desc(), ApiToken.id)
            )
        ).all()

    async def usable(self, token_hash: str) -> ApiToken | None:
        """The token with this hash, while its login is open."""
        return (
            await self.session.scalars(
                select(ApiToken)
                .join(AuthSession, AuthSession.id == ApiToken.session_id)
                .where(ApiToken.token_hash == token_hash, AuthSession.revoked_at.is_(None))
            )
        ).one_or_none()

    async def used_now(self, token_id: uuid.UUID, at: datetime | None = None) -> None:
        await self.session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at or utc_now())
        )

    async def remove(self, token_id: uuid.UUID, user_id: uuid.UUID) -> ApiToken | None:
        """Deletes the person's token and returns it; None when they have no such token."""
        token = await self.session.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        )
        if token is not None:
            await self.session.execute(delete(ApiToken).where(ApiToken.id == token.id))
        return token
