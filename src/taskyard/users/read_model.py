"""The task service's copy of people, kept current by the auth service's `user.*` events.

It is a `users` table of the task service's own database with the same columns, so tasks
join it for `createdBy` and `assignee` as in the monolith, and deleting a person cascades to
their tasks as there. No password is ever copied: the column holds a value no hash matches.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.users.events import USER_CHANGED, USER_DELETED
from taskyard.users.models import Role, User
from taskyard.users.repository import UserRepository

UNUSABLE_HASH = "!"  # not a hash: nobody signs in against the read model


async def apply_changed(session: AsyncSession, payload: Payload) -> None:
    users = UserRepository(session)
    changed_at = datetime.fromisoformat(payload["updated_at"].replace("Z", "+00:00"))
    user = await users.get(uuid.UUID(payload["user_id"]))
    if user is None:
        user = User(id=uuid.UUID(payload["user_id"]), password_hash=UNUSABLE_HASH)
        session.add(user)
    elif user.updated_at >= changed_at:
        return  # a newer change is already here: this one came late
    user.name = payload["name"]
    user.email = payload["email"]
    user.role = Role(payload["role"])
    user.is_active = bool(payload["active"])
    user.notifications = bool(payload["notifications"])
    user.updated_at = changed_at
    await users.flush()


async def apply_deleted(session: AsyncSession, payload: Payload) -> None:
    users = UserRepository(session)
    user = await users.get(uuid.UUID(payload["user_id"]))
    if user is not None:
        await users.delete(user)  # their tasks go with them, as in the monolith


def register(registry: EventRegistry) -> None:
    registry.on_work(USER_CHANGED, apply_changed)
    registry.on_work(USER_DELETED, apply_deleted)
