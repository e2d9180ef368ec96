from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import LIKE_ESCAPE, contains_pattern, insert_ignoring_conflicts
from taskyard.errors import Conflict
from taskyard.identity.roles import Role
from taskyard.users.models import User


class EmailTaken(Conflict):
    message = "Email is already registered"


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def role_active_and_stamp(self, user_id: uuid.UUID) -> tuple[Role, bool, datetime] | None:
        row = (
            await self.session.execute(
                select(User.role, User.is_active, User.updated_at).where(User.id == user_id)
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def add_if_absent(self, user: User) -> bool:
        """Insert the person unless someone of that id or email is already there (False)."""
        values = {
            column.key: getattr(user, column.key)
            for column in User.__table__.columns
            if getattr(user, column.key) is not None
        }
        result = await self.session.execute(
            insert_ignoring_conflicts(self.session, User).values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def add(self, user: User) -> User:
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError as error:
            raise EmailTaken() from error
        return user

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, user: User) -> None:
        """Delete the account; its tasks go with it and tasks assigned to it lose their assignee
        (the foreign keys' cascades)."""
        await self.session.execute(delete(User).where(User.id == user.id))
        self.session.expunge(user)

    async def page(
        self, *, role: Role | None, search: str | None, offset: int, limit: int
    ) -> tuple[Sequence[User], int]:
        conditions = []
        if role is not None:
            conditions.append(User.role == role)
        if search:
            pattern = contains_pattern(search)
            conditions.append(
                or_(
                    User.name.ilike(pattern, escape=LIKE_ESCAPE),
                    User.email.ilike(pattern, escape=LIKE_ESCAPE),
                )
            )
        total = await self.session.scalar(select(func.count()).select_from(User).where(*conditions))
        rows = await self.session.scalars(
            select(User)
            .where(*conditions)
            .order_by(User.created_at.desc(), User.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return rows.all(), total or 0

    async def lock_active_admin_ids(self) -> set[uuid.UUID]:
        """Active admins, row-locked on PostgreSQL so two demotions can't both pass the check."""
        query = select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True))
        rows = await self.session.scalars(query.with_for_update())
        return set(rows.all())
