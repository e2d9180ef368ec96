"""Mail about tasks (assignment, due soon) and the scan that finds what falls due.

The scan is safe with several workers: a reminder is claimed by inserting (task, due date) into
`due_reminders`; only the worker whose insert lands emits the events, in the same transaction.
"""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database, insert_ignoring_conflicts, utc_now
from taskyard.jobs.mail import Mail
from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.jobs.service import EventPublisher
from taskyard.tasks.events import TASK_ASSIGNED, TASK_DUE_SOON
from taskyard.tasks.models import DueReminder, Task, TaskStatus
from taskyard.users.models import User

DUE_WINDOW = timedelta(hours=24)
SCAN_BATCH = 500


def assigned(task: Task, assignee: User, owner: User) -> Mail:
    title, by = html.escape(task.title), html.escape(owner.name)
    return Mail(
        to=assignee.email,
        subject=f"You were assigned: {task.title}",
        text=f'Hi {assignee.name},\n\n{owner.name} assigned you the task "{task.title}".\n',
        html=f"<p>Hi {html.escape(assignee.name)},</p>"
        f"<p>{by} assigned you the task <strong>{title}</strong>.</p>",
    )


def due_soon(task: Task, recipient: User) -> Mail:
    assert task.due_date is not None
    when = task.due_date.strftime("%Y-%m-%d %H:%M UTC")
    return Mail(
        to=recipient.email,
        subject=f"Due within 24 hours: {task.title}",
        text=f'Hi {recipient.name},\n\n"{task.title}" is due {when}.\n',
        html=f"<p>Hi {html.escape(recipient.name)},</p>"
        f"<p><strong>{html.escape(task.title)}</strong> is due {when}.</p>",
    )


async def _assigned_mail(session: AsyncSession, payload: Payload) -> Mail | None:
    task = await session.get(Task, uuid.UUID(payload["task_id"]))
    assignee = await session.get(User, uuid.UUID(payload["assignee_id"]))
    if task is None or assignee is None or task.assignee_id != assignee.id:
        return None  # deleted or reassigned since: nothing to tell
    owner = await session.get(User, task.created_by_id)
    if owner is None or not assignee.notifications:
        return None
    return assigned(task, assignee, owner)


async def _due_soon_mail(session: AsyncSession, payload: Payload) -> Mail | None:
    task = await session.get(Task, uuid.UUID(payload["task_id"]))
    recipient = await session.get(User, uuid.UUID(payload["recipient_id"]))
    if (
        task is None
        or recipient is None
        or task.status is TaskStatus.COMPLETED
        or task.due_date is None
        or task.due_date.isoformat() != payload["due_date"]
        or not recipient.notifications
    ):
        return None  # done, moved or deleted since the scan
    return due_soon(task, recipient)


async def _claim(session: AsyncSession, task: Task) -> bool:
    result = await session.execute(
        insert_ignoring_conflicts(session, DueReminder).values(
            task_id=task.id, due_date=task.due_date, created_at=utc_now()
        )
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def scan_due_soon(database: Database) -> int:
    """Emit reminders for what falls due soon: tasks due within 24 hours, not completed, each
    reminded about once per due date. The number of tasks newly reminded about."""
    now = utc_now()
    reminded = 0
    async with database.session(write=True) as session:
        already = exists().where(
            and_(DueReminder.task_id == Task.id, DueReminder.due_date == Task.due_date)
        )
        due = await session.scalars(
            select(Task)
            .where(
                Task.due_date.is_not(None),
                Task.due_date > now,
                Task.due_date <= now + DUE_WINDOW,
                Task.status != TaskStatus.COMPLETED,
                ~already,
            )
            .limit(SCAN_BATCH)
        )
        events = EventPublisher(session)
        for task in due.all():
            if not await _claim(session, task):
                continue  # another worker got there first
            assert task.due_date is not None
            for recipient in {task.created_by_id, task.assignee_id} - {None}:
                events.emit(
                    TASK_DUE_SOON,
                    {
                        "task_id": str(task.id),
                        "due_date": task.due_date.isoformat(),
                        "recipient_id": str(recipient),
                    },
                )
            reminded += 1
        await session.commit()
    return reminded


def register(registry: EventRegistry) -> None:
    registry.on_mail(TASK_ASSIGNED, _assigned_mail)
    registry.on_mail(TASK_DUE_SOON, _due_soon_mail)
    registry.every_round("due-soon scan", scan_due_soon)
