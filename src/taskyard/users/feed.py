"""Account changes told to the services that keep a copy of people (split mode's task service).
The monolith reads the one `users` table, so it tells nobody."""

from __future__ import annotations

import uuid
from typing import Protocol

from taskyard.db import utc_now
from taskyard.jobs.service import EventPublisher
from taskyard.schemas import format_timestamp
from taskyard.users.events import USER_CHANGED, USER_DELETED
from taskyard.users.models import User


class AccountFeed(Protocol):
    def changed(self, user: User) -> None: ...

    def deleted(self, user_id: uuid.UUID) -> None: ...


class SilentFeed:
    def changed(self, user: User) -> None:
        return None

    def deleted(self, user_id: uuid.UUID) -> None:
        return None


class EventFeed:
    """Emits `user.*` events in the change's own transaction (the outbox)."""

    def __init__(self, events: EventPublisher) -> None:
        self.events = events

    def changed(self, user: User) -> None:
        self.events.emit(
            USER_CHANGED,
            {
                "user_id": str(user.id),
                "name": user.name,
                "email": user.email,
                "role": user.role.value,
                "active": user.is_active,
                "notifications": user.notifications,
                "updated_at": format_timestamp(utc_now()),
            },
        )

    def deleted(self, user_id: uuid.UUID) -> None:
        self.events.emit(USER_DELETED, {"user_id": str(user_id)})


def feed_for(service: str, events: EventPublisher) -> AccountFeed:
    return EventFeed(events) if service == "auth" else SilentFeed()
