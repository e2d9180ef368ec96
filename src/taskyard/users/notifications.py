"""Mail about accounts: the welcome message."""

from __future__ import annotations

import html
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.jobs.mail import Mail
from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.users.events import USER_REGISTERED
from taskyard.users.models import User


def welcome(user: User) -> Mail:
    name = html.escape(user.name)
    return Mail(
        to=user.email,
        subject="Welcome to Taskyard",
        text=f"Hi {user.name},\n\nYour Taskyard account is ready. Happy planning!\n",
        html=f"<p>Hi {name},</p><p>Your Taskyard account is ready. Happy planning!</p>",
    )


async def _welcome_mail(session: AsyncSession, payload: Payload) -> Mail | None:
    user = await session.get(User, uuid.UUID(payload["user_id"]))
    return welcome(user) if user is not None and user.notifications else None


def register(registry: EventRegistry) -> None:
    registry.on_mail(USER_REGISTERED, _welcome_mail)
