from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, Uuid, delete, func, literal, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import LIKE_ESCAPE, contains_pattern
from taskyard.errors import Conflict
from taskyard.tasks.models import Task
from taskyard.users.models import Role, User


class EmailTaken(Conflict):
    message = "Email is already registered"


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def add(self, user: User) -> User:
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError as error:
            raise EmailTaken() from error
        return user

    async def flush(self) -> None:
        await self.session.flush()

    async def bump_tasks_versions(self, people: Iterable[uuid.UUID] | Select[Any]) -> None:
        """Mark these people's cached task views stale, in this transaction.

        Their rows are locked in id order, after any task rows the transaction locked: one
        order on every write path, so concurrent writers queue instead of deadlocking.
        """
        chosen = people if isinstance(people, Select) else sorted(people)
        in_order = (
            select(User.id)
            .where(User.id.in_(chosen))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
        await self.session.execute(
            update(User)
            .where(User.id.in_(in_order.scalar_subquery()))
            .values(tasks_version=User.tasks_version + 1)
            .execution_options(synchronize_session=False)
        )

    async def lock_shared_tasks(self, user_id: uuid.UUID) -> None:
        """Lock the tasks this person owns or is assigned (tasks before people, as always)."""
        await self.session.execute(
            select(Task.id)
            .where(or_(Task.created_by_id == user_id, Task.assignee_id == user_id))
            .order_by(Task.id)
            .with_for_update()
        )

    @staticmethod
    def people_sharing_tasks_with(user_id: uuid.UUID) -> Select[Any]:
        """Everyone whose task views show this person: the owners of the tasks assigned to
        them and the assignees of their own tasks (and they themselves)."""
        return (
            union(
                select(literal(user_id, Uuid)),
                select(Task.created_by_id).where(Task.assignee_id == user_id),
                select(Task.assignee_id).where(
                    Task.created_by_id == user_id, Task.assignee_id.is_not(None)
                ),
            )
            .subquery()
            .select()
        )

    async def rename(self, user: User, name: str) -> None:
        """A new name freshens every cached view that shows it."""
        if name == user.name:
            return
        # Locks taken before the name's own UPDATE, which autoflush would otherwise send first.
        await self.bump_tasks_versions(self.people_sharing_tasks_with(user.id))
        user.name = name

    async def delete(self, user: User) -> None:
        """Delete the account and its tasks; tasks assigned to it lose their assignee. Everyone
        whose views showed those tasks sees fresh ones, from the same transaction on."""
        await self.lock_shared_tasks(user.id)
        await self.bump_tasks_versions(self.people_sharing_tasks_with(user.id))
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
