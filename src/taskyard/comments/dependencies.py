from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.comments.repository import CommentRepository
from taskyard.comments.service import CommentService
from taskyard.db import DbSession
from taskyard.jobs.service import EventPublisher
from taskyard.services import ServicesDep
from taskyard.tasks.dependencies import TaskServiceDep
from taskyard.users.repository import UserRepository


async def get_comment_service(
    services: ServicesDep, session: DbSession, tasks: TaskServiceDep
) -> CommentService:
    return CommentService(
        CommentRepository(session),
        tasks,
        UserRepository(session),
        tasks.activity,
        EventPublisher(session, services.wake_relays),
    )


CommentServiceDep = Annotated[CommentService, Depends(get_comment_service)]
