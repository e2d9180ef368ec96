from __future__ import annotations

import uuid
from collections.abc import Sequence

from taskyard.errors import NotFound
from taskyard.tasks.models import Task, TaskPriority, TaskStatus
from taskyard.tasks.repository import TaskFilter, TaskRepository
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


class TaskService:
    def __init__(self, tasks: TaskRepository) -> None:
        self.tasks = tasks

    async def list_own(self, user: User, query: TaskListQuery) -> tuple[Sequence[Task], int]:
        return await self._page(_filter(user.id, query), query)

    async def list_all(self, query: AdminTaskListQuery) -> tuple[Sequence[Task], int]:
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
        return await self.tasks.add(task)

    async def update(self, task_id: uuid.UUID, viewer: User, changes: TaskUpdate) -> Task:
        task = await self.get(task_id, viewer)
        for field, value in changes.changes().items():
            setattr(task, field, value)
        await self.tasks.flush()
        return task

    async def delete(self, task_id: uuid.UUID, viewer: User) -> None:
        task = await self.get(task_id, viewer)
        await self.tasks.delete(task)

    async def _page(
        self, task_filter: TaskFilter, query: TaskListQuery
    ) -> tuple[Sequence[Task], int]:
        return await self.tasks.page(
            task_filter, sort=query.sort, offset=query.offset, limit=query.limit
        )


def _filter(owner_id: uuid.UUID | None, query: TaskListQuery) -> TaskFilter:
    return TaskFilter(
        owner_id=owner_id, status=query.status, priority=query.priority, search=query.search
    )
