"""What each event does. Every handler runs at most once per event id, whoever delivers it."""

from __future__ import annotations

import html
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database
from taskyard.jobs import events
from taskyard.jobs.broker import EventMessage
from taskyard.jobs.mail import Mail, Mailer
from taskyard.jobs.repository import ProcessedEventRepository
from taskyard.tasks.models import Task
from taskyard.users.models import User


def _welcome(user: User) -> Mail:
    name = html.escape(user.name)
    return Mail(
        to=user.email,
        subject="Welcome to Taskyard",
        text=f"Hi {user.name},\n\nYour Taskyard account is ready. Happy planning!\n",
        html=f"<p>Hi {name},</p><p>Your Taskyard account is ready. Happy planning!</p>",
    )


def _assigned(task: Task, assignee: User, owner: User) -> Mail:
    title, by = html.escape(task.title), html.escape(owner.name)
    return Mail(
        to=assignee.email,
        subject=f"You were assigned: {task.title}",
        text=f'Hi {assignee.name},\n\n{owner.name} assigned you the task "{task.title}".\n',
        html=f"<p>Hi {html.escape(assignee.name)},</p>"
        f"<p>{by} assigned you the task <strong>{title}</strong>.</p>",
    )


class EventHandlers:
    def __init__(self, database: Database, mailer: Mailer) -> None:
        self.database = database
        self.mailer = mailer

    async def handle_message(self, event: EventMessage) -> bool:
        return await self.handle(event.event_id, event.type, event.payload)

    async def handle(self, event_id: uuid.UUID, event_type: str, payload: dict[str, Any]) -> bool:
        """Carry out one event; False when it had been carried out already (a redelivery)."""
        async with self.database.session(write=True) as session:
            if not await ProcessedEventRepository(session).first_time(event_id):
                return False
            mail = await self._mail_for(session, event_type, payload)
            if mail is not None:
                await self.mailer.send(mail)
            # Committed only after the mail went out: a failure leaves the event to retry.
            await session.commit()
            return True

    async def _mail_for(
        self, session: AsyncSession, event_type: str, payload: dict[str, Any]
    ) -> Mail | None:
        if event_type == events.USER_REGISTERED:
            user = await session.get(User, uuid.UUID(payload["user_id"]))
            return _welcome(user) if user is not None and user.notifications else None
        if event_type == events.TASK_ASSIGNED:
            task = await session.get(Task, uuid.UUID(payload["task_id"]))
            assignee = await session.get(User, uuid.UUID(payload["assignee_id"]))
            if task is None or assignee is None or task.assignee_id != assignee.id:
                return None  # deleted or reassigned since: nothing to tell
            owner = await session.get(User, task.created_by_id)
            if owner is None or not assignee.notifications:
                return None
            return _assigned(task, assignee, owner)
        raise ValueError(f"unknown event type {event_type!r}")
