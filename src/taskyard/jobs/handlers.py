"""What each event does. Every handler runs at most once per event id, whoever delivers it."""

from __future__ import annotations

import html
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database
from taskyard.exports.models import Export
from taskyard.exports.repository import ExportRepository
from taskyard.exports.service import ExportService
from taskyard.jobs import events
from taskyard.jobs.broker import EventMessage
from taskyard.jobs.mail import Mail, Mailer
from taskyard.jobs.repository import ProcessedEventRepository
from taskyard.jobs.service import EventPublisher
from taskyard.tasks.models import Task, TaskStatus
from taskyard.tasks.repository import TaskRepository
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


def _due_soon(task: Task, recipient: User) -> Mail:
    assert task.due_date is not None
    when = task.due_date.strftime("%Y-%m-%d %H:%M UTC")
    return Mail(
        to=recipient.email,
        subject=f"Due within 24 hours: {task.title}",
        text=f'Hi {recipient.name},\n\n"{task.title}" is due {when}.\n',
        html=f"<p>Hi {html.escape(recipient.name)},</p>"
        f"<p><strong>{html.escape(task.title)}</strong> is due {when}.</p>",
    )


def _export_ready(export: Export, owner: User, public_url: str) -> Mail:
    # The web client's page for it downloads with the person's session; a bare API URL would
    # need a bearer token that no mail client has.
    link = f"{public_url}/exports/{export.id}"
    return Mail(
        to=owner.email,
        subject="Your export is ready",
        text=f"Hi {owner.name},\n\nYour {export.format.value.upper()} export of "
        f"{export.row_count} tasks is ready: {link}\n",
        html=f"<p>Hi {html.escape(owner.name)},</p><p>Your {export.format.value.upper()} export "
        f'of {export.row_count} tasks is ready: <a href="{link}">download</a>.</p>',
    )


class EventHandlers:
    def __init__(self, database: Database, mailer: Mailer, *, public_url: str) -> None:
        self.database = database
        self.mailer = mailer
        self.public_url = public_url

    async def handle_message(self, event: EventMessage) -> bool:
        return await self.handle(event.event_id, event.type, event.payload)

    async def handle(self, event_id: uuid.UUID, event_type: str, payload: dict[str, Any]) -> bool:
        """Carry out one event; False when it had been carried out already (a redelivery)."""
        if event_type == events.EXPORT_REQUESTED:
            return await self._build_export(event_id, uuid.UUID(payload["export_id"]))
        # No write transaction is held while the mail goes out: on SQLite it would block every
        # other writer for as long as the mail server takes.
        async with self.database.session(write=False) as session:
            if await ProcessedEventRepository(session).seen(event_id):
                return False
            mail = await self._mail_for(session, event_type, payload)
        if mail is not None:
            await self.mailer.send(mail)
        # Recorded only after the mail went out: a failure before this leaves the event to retry.
        async with self.database.session(write=True) as session:
            first = await ProcessedEventRepository(session).first_time(event_id)
            await session.commit()
        return first

    async def _build_export(self, event_id: uuid.UUID, export_id: uuid.UUID) -> bool:
        await self._mark_export_running(export_id)
        async with self.database.session(write=True) as session:
            if not await ProcessedEventRepository(session).first_time(event_id):
                return False
            await ExportService(
                ExportRepository(session),
                TaskRepository(session),
                EventPublisher(session),
                ttl_seconds=0,
            ).build(export_id)
            await session.commit()
            return True

    async def _mark_export_running(self, export_id: uuid.UUID) -> None:
        """Show the export as running while it is built (a transaction of its own)."""
        async with self.database.session(write=True) as session:
            await ExportRepository(session).mark_running(export_id)
            await session.commit()

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
        if event_type == events.TASK_DUE_SOON:
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
            return _due_soon(task, recipient)
        if event_type == events.EXPORT_READY:
            export = await session.get(Export, uuid.UUID(payload["export_id"]))
            owner = await session.get(User, export.owner_id) if export is not None else None
            if export is None or owner is None or not owner.notifications:
                return None
            return _export_ready(export, owner, self.public_url)
        raise ValueError(f"unknown event type {event_type!r}")
