from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.activity.repository import ActivityRepository
from taskyard.activity.service import TaskTrail
from taskyard.db import DbSession
from taskyard.tasks.dependencies import TaskServiceDep


async def get_task_trail(session: DbSession, tasks: TaskServiceDep) -> TaskTrail:
    return TaskTrail(ActivityRepository(session), tasks)


TaskTrailDep = Annotated[TaskTrail, Depends(get_task_trail)]
