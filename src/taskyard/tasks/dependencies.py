from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskyard.cache.dependencies import ResponseCacheDep
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.tasks.people import PEOPLE_CATCH_UP_SECONDS
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
        people_catch_up_seconds=(
            # SQLite: the request holds the write lock the event's writer would wait for.
            PEOPLE_CATCH_UP_SECONDS
            if state.settings.service == "tasks" and not state.settings.is_sqlite
            else 0
        ),
    )


TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
