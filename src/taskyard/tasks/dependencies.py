from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.activity.repository import ActivityRepository
from taskyard.activity.service import ActivityLog
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.labels.repository import LabelRepository
from taskyard.projects.repository import ProjectRepository
from taskyard.services import ServicesDep
from taskyard.tasks.repository import TaskRepository
from taskyard.tasks.service import TaskService
from taskyard.users.repository import UserRepository


async def get_task_service(services: ServicesDep, session: DbSession) -> TaskService:
    return TaskService(
        TaskRepository(session),
        UserRepository(session),
        ProjectRepository(session),
        LabelRepository(session),
        ActivityLog(ActivityRepository(session)),
        services.cursors,
        services.response_cache,
        EventPublisher(session, services.wake_relays),
        people_catch_up_seconds=services.people_catch_up_seconds,
    )


TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
