from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.access_tokens import AccessClaims
from taskyard.auth.models import AuthSession, RefreshToken, SigningKey
from taskyard.auth.tokens import NewRefreshToken
from taskyard.db import utc_now
from taskyard.identity.store import AccountState, stamp_of
from taskyard.users.models import User


class AuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_session(self, user_id: uuid.UUID) -> AuthSession:
        login = AuthSession(user_id=user_id)
        self.session.add(login)
        await self.session.flush()
        return login

    async def add_refresh_token(self, session_id: uuid.UUID, token: NewRefreshToken) -> None:
        self.session.add(
            RefreshToken(
                session_id=session_id, token_hash=token.token_hash, expires_at=token.expires_at
            )
        )
        await self.session.flush()

    async def find_refresh_token(
        self, token_hash: str
    ) -> tuple[RefreshToken, AuthSession, User] | None:
        row = (
            await self.session.execute(
                select(RefreshToken, AuthSession, User)
                .join(AuthSession, RefreshToken.session_id == AuthSession.id)
                .join(User, AuthSession.user_id == User.id)
                .where(RefreshToken.token_hash == token_hash)
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def spend_refresh_token(self, token_id: uuid.UUID) -> bool:
        """Mark a token used; False when a concurrent request spent it first."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def touch_session(self, session_id: uuid.UUID) -> None:
        await self.session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=utc_now())
        )

    async def revoke_session(self, session_id: uuid.UUID) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )

    async def revoke_user_sessions(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        """End every open login of this person; the ids of the sessions it ended."""
        ended = await self.session.scalars(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utc_now())
            .returning(AuthSession.id)
        )
        return list(ended.all())

    async def account_state(self, claims: AccessClaims) -> AccountState | None:
        """The caller's role, active flag, whether their login session is open and the row's
        stamp: one round trip, no ORM objects. None when the account is gone."""
        user_id, session_id = claims.user_id, claims.session_id
        row = (
            await self.session.execute(
                select(
                    User.role,
                    User.is_active,
                    User.updated_at,
                    AuthSession.id,
                    AuthSession.revoked_at,
                )
                .outerjoin(
                    AuthSession,
                    and_(AuthSession.id == session_id, AuthSession.user_id == User.id),
                )
                .where(User.id == user_id)
            )
        ).one_or_none()
        if row is None:
            return None
        role, active, updated_at, found_session, revoked_at = row
        session_open = found_session is not None and revoked_at is None
        return AccountState(role, active, session_open, stamp_of(updated_at))


class SigningKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def published(self, now: datetime) -> list[SigningKey]:
        """Every key not yet retired, oldest first."""
        rows = await self.session.scalars(
            select(SigningKey)
            .where(or_(SigningKey.retire_after.is_(None), SigningKey.retire_after > now))
            .order_by(SigningKey.active_from, SigningKey.kid)
        )
        return list(rows.all())

    async def retire_unretired(self, after: datetime) -> None:
        """Give every key without a retirement date one: they sign no more tokens from now on."""
        await self.session.execute(
            update(SigningKey).where(SigningKey.retire_after.is_(None)).values(retire_after=after)
        )

    async def add(self, key: SigningKey) -> None:
        self.session.add(key)
        await self.session.flush()
