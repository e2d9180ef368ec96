"""Exports off the request path: building the file, the mail that it is ready, and the purge of
expired ones."""

from __future__ import annotations

import html
import uuid
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database, utc_now
from taskyard.exports.events import EXPORT_READY, EXPORT_REQUESTED
from taskyard.exports.models import Export
from taskyard.exports.repository import ExportRepository
from taskyard.exports.service import GAVE_UP, ExportService
from taskyard.jobs.mail import Mail
from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.jobs.service import EventPublisher
from taskyard.tasks.repository import TaskRepository
from taskyard.users.models import User


def export_ready(export: Export, owner: User, public_url: str) -> Mail:
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


async def _mark_running(database: Database, payload: Payload) -> None:
    """Show the export as running while it is built (a transaction of its own)."""
    async with database.session(write=True) as session:
        await ExportRepository(session).mark_running(uuid.UUID(payload["export_id"]))
        await session.commit()


async def _mark_failed(database: Database, payload: Payload, error: str) -> None:
    """Every try failed: the export says so, in words its owner can act on."""
    async with database.session(write=True) as session:
        await ExportRepository(session).mark_failed(
            uuid.UUID(payload["export_id"]), GAVE_UP, utc_now()
        )
        await session.commit()


async def _build(session: AsyncSession, payload: Payload) -> None:
    service = ExportService(
        ExportRepository(session), TaskRepository(session), EventPublisher(session), ttl_seconds=0
    )
    await service.build(uuid.UUID(payload["export_id"]))


async def _ready_mail(session: AsyncSession, payload: Payload, *, public_url: str) -> Mail | None:
    export = await session.get(Export, uuid.UUID(payload["export_id"]))
    owner = await session.get(User, export.owner_id) if export is not None else None
    if export is None or owner is None or not owner.notifications:
        return None
    return export_ready(export, owner, public_url)


async def purge_expired(database: Database) -> int:
    async with database.session(write=True) as session:
        purged = await ExportRepository(session).delete_expired(utc_now())
        await session.commit()
    return purged


def register(registry: EventRegistry, *, public_url: str) -> None:
    registry.on_work(EXPORT_REQUESTED, _build, prepare=_mark_running, give_up=_mark_failed)
    registry.on_mail(EXPORT_READY, partial(_ready_mail, public_url=public_url))
    registry.every_round("expired-export purge", purge_expired)
