from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from taskyard.cache.service import ResponseCache
from taskyard.cursors import CursorCodec, InvalidCursor
from taskyard.db import after_commit
from taskyard.errors import NotFound, ValidationFailed
from taskyard.tasks.models import Task, TaskPriority, TaskStatus
from taskyard.tasks.repository import SortOrder, TaskFilter, TaskRepository
from taskyard.tasks.schemas import (
    AdminTaskListQuery,
    GroupCount,
    TaskCreate,
    TaskListQuery,
    TaskStats,
    TaskUpdate,
)
from taskyard.users.models import User


class TaskNotFound(NotFound):
    # Also what a caller gets for someone else's task: existence is never revealed.
    message = "Task not found"


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: Sequence[Task]
    total: int
    next_cursor: str | None


class TaskService:
    def __init__(self, tasks: TaskRepository, cursors: CursorCodec, cache: ResponseCache) -> None:
        self.tasks = tasks
        self.cursors = cursors
        self.cache = cache

    async def _changed(self, task: Task) -> None:
        """Every cached view that could show this task goes stale with this transaction."""
        await self.tasks.bump_tasks_versions({task.created_by_id})
        after_commit(self.tasks.session, self.cache.expire_admin_views)

    async def list_own(self, user: User, query: TaskListQuery) -> TaskPage:
        return await self._page(_filter(user.id, query), query)

    async def list_all(self, query: AdminTaskListQuery) -> TaskPage:
        return await self._page(_filter(query.created_by, query), query)

    async def stats(self, user: User) -> TaskStats:
        by_status = dict.fromkeys(TaskStatus, 0)
        by_priority = dict.fromkeys(TaskPriority, 0)
        for status, priority, count in await self.tasks.count_by_status_and_priority(user.id):
            by_status[status] += count
            by_priority[priority] += count
        return TaskStats(
            total=sum(by_status.values()),
            by_status=[GroupCount(key=key.value, count=n) for key, n in by_status.items()],
            by_priority=[GroupCount(key=key.value, count=n) for key, n in by_priority.items()],
        )

    async def get(self, task_id: uuid.UUID, viewer: User) -> Task:
        task = await self.tasks.get_visible(task_id, viewer)
        if task is None:
            raise TaskNotFound()
        return task

    async def create(self, owner: User, data: TaskCreate) -> Task:
        task = Task(
            title=data.title,
            description=data.description,
            status=data.status,
            priority=data.priority,
            due_date=data.due_date,
            owner=owner,
        )
        await self.tasks.add(task)
        await self._changed(task)
        return task

    async def update(self, task_id: uuid.UUID, viewer: User, changes: TaskUpdate) -> Task:
        task = await self.get(task_id, viewer)
        for field, value in changes.changes().items():
            setattr(task, field, value)
        await self.tasks.flush()
        await self._changed(task)
        return task

    async def delete(self, task_id: uuid.UUID, viewer: User) -> None:
        task = await self.get(task_id, viewer)
        await self._changed(task)
        await self.tasks.delete(task)

    async def _page(self, task_filter: TaskFilter, query: TaskListQuery) -> TaskPage:
        order = SortOrder.parse(query.sort)
        after = self._position(query.cursor, query.sort) if query.cursor else None
        # One row more than asked tells whether another page follows.
        rows, total = await self.tasks.page(
            task_filter,
            order=order,
            limit=query.limit + 1,
            offset=0 if after else query.offset,
            after=after,
        )
        tasks = rows[: query.limit]
        next_cursor = None
        if len(rows) > query.limit:
            last = tasks[-1]
            next_cursor = self.cursors.encode(
                {"sort": query.sort, "key": _to_json(order.key_of(last)), "id": str(last.id)}
            )
        return TaskPage(tasks, total, next_cursor)

    def _position(self, cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
        position = self.cursors.decode(cursor)
        if position.get("sort") != sort:
            raise ValidationFailed("cursor", "This cursor belongs to another sort order")
        try:
            field = SortOrder.parse(sort).field
            return _from_json(field, position["key"]), uuid.UUID(str(position["id"]))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidCursor() from error


def _filter(owner_id: uuid.UUID | None, query: TaskListQuery) -> TaskFilter:
    return TaskFilter(
        owner_id=owner_id, status=query.status, priority=query.priority, search=query.search
    )


def _to_json(key: Any) -> Any:
    return key.isoformat() if isinstance(key, datetime) else key


def _from_json(field: str, value: Any) -> Any:
    if field in {"createdAt", "dueDate"}:
        return None if value is None else datetime.fromisoformat(value)
    if field == "priority" and not isinstance(value, int):
        raise TypeError("priority cursor key must be a rank")
    if field == "title" and not isinstance(value, str):
        raise TypeError("title cursor key must be text")
    return value
