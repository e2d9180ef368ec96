"""Account changes told to the services that keep a copy of people (split mode's task service).
The monolith reads the one `users` table, so it tells nobody (the wiring picks which feed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from taskyard.jobs.service import EventPublisher
from taskyard.schemas import format_timestamp
from taskyard.users.events import SESSIONS_REVOKED, USER_CHANGED, USER_DELETED
from taskyard.users.models import User


class AccountFeed(Protocol):
    def changed(self, user: User) -> None: ...

    def deleted(self, user_id: uuid.UUID) -> None: ...

    def sessions_revoked(self, session_ids: Sequence[uuid.UUID], until: datetime) -> None:
        """These logins ended; their access tokens live at most `until`."""
        ...


class SilentFeed:
    def changed(self, user: User) -> None:
        return None

    def deleted(self, user_id: uuid.UUID) -> None:
        return None

    def sessions_revoked(self, session_ids: Sequence[uuid.UUID], until: datetime) -> None:
        return None


class EventFeed:
    """Emits `user.*` and `sessions.revoked` events in the change's own transaction (the
    outbox)."""

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
                # The row's own stamp (set at the flush before this): the identity store orders
                # account states by it too, so the task service's copy and it agree.
                "updated_at": format_timestamp(user.updated_at),
            },
        )

    def deleted(self, user_id: uuid.UUID) -> None:
        self.events.emit(USER_DELETED, {"user_id": str(user_id)})

    def sessions_revoked(self, session_ids: Sequence[uuid.UUID], until: datetime) -> None:
        if session_ids:
            payload = {
                "session_ids": [str(sid) for sid in session_ids],
                "until": format_timestamp(until),
            }
            self.events.emit(SESSIONS_REVOKED, payload)
