from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskyard.cache.dependencies import ResponseCacheDep
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.tasks.repository import TaskRepository
from taskyard.tasks.service import TaskService
from taskyard.users.repository import UserRepository


async def get_task_service(
    request: Request, session: DbSession, cache: ResponseCacheDep
) -> TaskService:
    state = request.app.state
    return TaskService(
        TaskRepository(session),
        UserRepository(session),
        state.cursors,
        cache,
        EventPublisher(session, state.relay_wake),
    )


TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
