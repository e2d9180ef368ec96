from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.db import DbSession
from taskyard.tasks.repository import TaskRepository
from taskyard.tasks.service import TaskService


async def get_task_service(session: DbSession) -> TaskService:
    return TaskService(TaskRepository(session))


TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
