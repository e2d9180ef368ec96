"""What accounts must know of the work that shows a person (`users.service.SharedTasks`),
from the tasks and projects they are in."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.projects.repository import ProjectRepository
from taskyard.projects.service import hand_over_projects_of
from taskyard.tasks.repository import TaskRepository


class SharedWork:
    def __init__(self, session: AsyncSession) -> None:
        self.tasks = TaskRepository(session)
        self.projects = ProjectRepository(session)

    async def lock_shared_with(self, user_id: uuid.UUID) -> None:
        await self.tasks.lock_shared_with(user_id)

    async def people_sharing_with(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return await self.tasks.people_sharing_with(user_id)

    async def hand_over_projects_of(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return await hand_over_projects_of(self.projects, user_id)

    async def projects_showing(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return await self.tasks.projects_showing(user_id)
