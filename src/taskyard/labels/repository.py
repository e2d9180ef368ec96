from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.labels.models import Label, TaskLabel
from taskyard.tasks.models import Task, label_ids_text


class LabelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_project(self, project_id: uuid.UUID) -> Sequence[Label]:
        rows = await self.session.scalars(
            select(Label).where(Label.project_id == project_id).order_by(Label.created_at, Label.id)
        )
        return rows.all()

    async def get(self, project_id: uuid.UUID, label_id: uuid.UUID) -> Label | None:
        return await self.session.scalar(
            select(Label).where(Label.id == label_id, Label.project_id == project_id)
        )

    async def add(self, label: Label) -> None:
        self.session.add(label)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, label: Label) -> None:
        """The label, and its id from every task that carried it (a new version of each)."""
        carrying = await self.session.scalars(
            select(Task)
            .join(TaskLabel, TaskLabel.task_id == Task.id)
            .where(TaskLabel.label_id == label.id)
            .order_by(Task.id)
            .with_for_update(of=Task)
        )
        for task in carrying.all():
            task.label_ids_text = label_ids_text(set(task.labels) - {label.id})
            task.version += 1
        await self.session.flush()
        await self.session.execute(delete(Label).where(Label.id == label.id))
        self.session.expunge(label)

    async def in_project(
        self, project_id: uuid.UUID, label_ids: Iterable[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Which of these labels are the project's."""
        wanted = set(label_ids)
        if not wanted:
            return set()
        rows = await self.session.scalars(
            select(Label.id).where(Label.project_id == project_id, Label.id.in_(wanted))
        )
        return set(rows.all())

    async def people_on_tasks_with(self, label_id: uuid.UUID) -> set[uuid.UUID]:
        """The creators and assignees of the tasks that carry the label."""
        rows = await self.session.execute(
            select(Task.created_by_id, Task.assignee_id)
            .join(TaskLabel, TaskLabel.task_id == Task.id)
            .where(TaskLabel.label_id == label_id)
        )
        return {person for row in rows.all() for person in row if person is not None}

    async def of_task(self, task_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(TaskLabel.label_id).where(TaskLabel.task_id == task_id)
        )
        return set(rows.all())

    async def set_for_task(
        self, task_id: uuid.UUID, before: set[uuid.UUID], after: set[uuid.UUID]
    ) -> None:
        """Put the task's labels from `before` to `after`, writing only the difference."""
        if gone := before - after:
            await self.session.execute(
                delete(TaskLabel).where(TaskLabel.task_id == task_id, TaskLabel.label_id.in_(gone))
            )
        if added := after - before:
            await self.session.execute(
                insert(TaskLabel), [{"task_id": task_id, "label_id": label} for label in added]
            )
