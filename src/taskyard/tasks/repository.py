from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from taskyard.db import LIKE_ESCAPE, contains_pattern
from taskyard.tasks.models import PRIORITY_RANK, Task, TaskPriority, TaskStatus
from taskyard.users.models import User

_PRIORITY_RANK_SQL = case(
    {priority.value: rank for priority, rank in PRIORITY_RANK.items()}, value=Task.priority
)


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Which tasks a list covers. `owner_id=None` means everyone's (the admin view)."""

    owner_id: uuid.UUID | None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    search: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.owner_id is not None:
            conditions.append(Task.created_by_id == self.owner_id)
        if self.status is not None:
            conditions.append(Task.status == self.status)
        if self.priority is not None:
            conditions.append(Task.priority == self.priority)
        if self.search:
            pattern = contains_pattern(self.search)
            conditions.append(
                or_(
                    Task.title.ilike(pattern, escape=LIKE_ESCAPE),
                    Task.description.ilike(pattern, escape=LIKE_ESCAPE),
                )
            )
        return conditions


def _order_by(sort: str) -> list[ColumnElement[Any]]:
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    column: ColumnElement[object] = {
        "createdAt": Task.created_at,
        "dueDate": Task.due_date,
        "priority": _PRIORITY_RANK_SQL,
        "title": Task.title,
    }[field]  # type: ignore[assignment]
    primary = column.desc() if descending else column.asc()
    if field == "dueDate":
        # Tasks without a due date go last in either direction, on every backend alike.
        primary = primary.nulls_last()
    # The other keys are NOT NULL and keep the plain order, so the indexes can serve them.
    tie_breaker = Task.id.desc() if descending else Task.id.asc()
    return [primary, tie_breaker]


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, task: Task) -> Task:
        self.session.add(task)
        await self.session.flush()
        return task

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, task: Task) -> None:
        await self.session.execute(delete(Task).where(Task.id == task.id))
        self.session.expunge(task)

    async def get_visible(self, task_id: uuid.UUID, viewer: User) -> Task | None:
        """The task if the viewer may see it: its owner, or any admin."""
        query = (
            select(Task)
            .join(Task.owner)
            .options(contains_eager(Task.owner))
            .where(Task.id == task_id)
        )
        if not viewer.is_admin:
            query = query.where(Task.created_by_id == viewer.id)
        return await self.session.scalar(query)

    async def page(
        self, task_filter: TaskFilter, *, sort: str, offset: int, limit: int
    ) -> tuple[Sequence[Task], int]:
        """One page with owners joined in, plus one count: two queries whatever the page size."""
        total = await self.session.scalar(
            select(func.count()).select_from(Task).where(*task_filter.conditions())
        )
        rows = await self.session.scalars(self.page_query(task_filter, sort, offset, limit))
        return rows.all(), total or 0

    @staticmethod
    def page_query(task_filter: TaskFilter, sort: str, offset: int, limit: int) -> Select[Task]:
        return (
            select(Task)
            .join(Task.owner)
            .options(contains_eager(Task.owner))
            .where(*task_filter.conditions())
            .order_by(*_order_by(sort))
            .offset(offset)
            .limit(limit)
        )

    async def count_by_status_and_priority(
        self, owner_id: uuid.UUID
    ) -> Sequence[tuple[TaskStatus, TaskPriority, int]]:
        rows = await self.session.execute(
            select(Task.status, Task.priority, func.count())
            .where(Task.created_by_id == owner_id)
            .group_by(Task.status, Task.priority)
        )
        return [(row[0], row[1], int(row[2])) for row in rows.all()]
