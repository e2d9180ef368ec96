from __future__ import annotations

import uuid
from collections.abc import Sequence

from taskyard.cache.service import ResponseCache
from taskyard.errors import NotFound
from taskyard.identity import Viewer
from taskyard.labels.models import Label
from taskyard.labels.repository import LabelRepository
from taskyard.labels.schemas import LabelCreate, LabelUpdate
from taskyard.projects.models import ProjectRole
from taskyard.projects.service import ProjectService


class LabelNotFound(NotFound):
    message = "Label not found"


class LabelService:
    """A project's labels: its members read them, its admins change them."""

    def __init__(
        self, labels: LabelRepository, projects: ProjectService, cache: ResponseCache
    ) -> None:
        self.labels = labels
        self.projects = projects
        self.cache = cache

    async def list(self, project_id: uuid.UUID, viewer: Viewer) -> Sequence[Label]:
        await self.projects.access(project_id, viewer)
        return await self.labels.of_project(project_id)

    async def create(self, project_id: uuid.UUID, viewer: Viewer, data: LabelCreate) -> Label:
        await self.projects.access(project_id, viewer, ProjectRole.ADMIN)
        label = Label(project_id=project_id, name=data.name, color=data.color.lower())
        await self.labels.add(label)
        return label

    async def update(
        self, project_id: uuid.UUID, label_id: uuid.UUID, viewer: Viewer, changes: LabelUpdate
    ) -> Label:
        label = await self._label(project_id, label_id, viewer)
        for field, value in changes.changes().items():
            setattr(label, field, value.lower() if field == "color" else value)
        await self.labels.flush()
        return label

    async def delete(self, project_id: uuid.UUID, label_id: uuid.UUID, viewer: Viewer) -> None:
        """The label comes off every task that carried it: their own views are retired."""
        label = await self._label(project_id, label_id, viewer)
        people = await self.labels.people_on_tasks_with(label_id)
        self.cache.after_write(self.labels.session, people, {project_id})
        await self.labels.delete(label)

    async def _label(self, project_id: uuid.UUID, label_id: uuid.UUID, viewer: Viewer) -> Label:
        await self.projects.access(project_id, viewer, ProjectRole.ADMIN)
        label = await self.labels.get(project_id, label_id)
        if label is None:
            raise LabelNotFound()
        return label
