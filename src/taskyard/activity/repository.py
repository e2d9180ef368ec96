from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.activity.models import TaskActivity
from taskyard.db.native import write_rows
from taskyard.users.models import User

_TABLE = TaskActivity.metadata.tables[TaskActivity.__tablename__]
_INSERT = insert(_TABLE)
_COLUMNS = ("id", "task_id", "actor_id", "action", "field", "old_value", "new_value", "created_at")


@functools.cache  # a few shapes, each built once: the native path caches by statement
def entries_insert(count: int) -> Insert:
    """An INSERT of `count` entries, each value a parameter of its own
    (`activity_<n>_<column>`), so it can ride in another write as a CTE."""
    return insert(_TABLE).values(
        [
            {
                name: bindparam(f"activity_{n}_{name}", type_=_TABLE.c[name].type)
                for name in _COLUMNS
            }
            for n in range(count)
        ]
    )


def entries_values(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`entries_insert(len(entries))`'s values."""
    return {
        f"activity_{n}_{name}": entry[name] for n, entry in enumerate(entries) for name in _COLUMNS
    }


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
