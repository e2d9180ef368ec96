from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.activity.models import TaskActivity
from taskyard.db.native import write_rows
from taskyard.users.models import User

_INSERT = insert(TaskActivity.metadata.tables[TaskActivity.__tablename__])


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entries: list[dict[str, Any]]) -> None:
        # One entry, as most writes make, goes as a plain INSERT: handing SQLAlchemy a list
        # takes its executemany path, which cost a create a fifth of its CPU.
        # On PostgreSQL it goes through asyncpg, past SQLAlchemy's per-execution work.
        if len(entries) == 1:
            await write_rows(self.session, _INSERT, entries[0])
        elif entries:
            await self.session.execute(_INSERT, entries)

    async def page(
        self, task_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Any], int]:
        """A task's entries newest first, with their actors' names (null once an account went)."""
        rows = await self.session.execute(
            select(TaskActivity, User.name, User.email)
            .outerjoin(User, User.id == TaskActivity.actor_id)
            .where(TaskActivity.task_id == task_id)
            .order_by(TaskActivity.created_at.desc(), TaskActivity.id.desc())
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(TaskActivity).where(TaskActivity.task_id == task_id)
        )
        return rows.all(), int(total or 0)
