"""Account changes told to the services that keep a copy of people (split mode's task service).
The monolith reads the one `users` table, so it tells nobody (the wiring picks which feed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from taskyard.api_tokens.events import TOKEN_ISSUED, TOKEN_REVOKED
from taskyard.jobs.service import EventPublisher
from taskyard.schemas import format_timestamp
from taskyard.users.events import SESSIONS_REVOKED, USER_CHANGED, USER_DELETED
from taskyard.users.models import User

NEVER = datetime(9999, 12, 31, tzinfo=UTC)  # a token without an expiry


class AccountFeed(Protocol):
    def changed(self, user: User) -> None: ...

    def deleted(self, user_id: uuid.UUID) -> None: ...

    def sessions_revoked(self, session_ids: Sequence[uuid.UUID], until: datetime) -> None:
        """These logins ended; their access tokens live at most `until`."""
        ...

    def token_issued(self, token: IssuedToken) -> None: ...

    def token_revoked(self, token: IssuedToken) -> None: ...


class IssuedToken(Protocol):
    """What the task service keeps of a personal API token (`ApiToken`): never the token."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def token_hash(self) -> str: ...
    @property
    def session_id(self) -> uuid.UUID: ...
    @property
    def user_id(self) -> uuid.UUID: ...
    @property
    def scopes(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...


class SilentFeed:
    def changed(self, user: User) -> None:
        return None

    def deleted(self, user_id: uuid.UUID) -> None:
        return None

    def sessions_revoked(self, session_ids: Sequence[uuid.UUID], until: datetime) -> None:
        return None

    def token_issued(self, token: IssuedToken) -> None:
        return None

    def token_revoked(self, token: IssuedToken) -> None:
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

    def token_issued(self, token: IssuedToken) -> None:
        self.events.emit(
            TOKEN_ISSUED,
            {
                "token_id": str(token.id),
                "token_hash": token.token_hash,
                "session_id": str(token.session_id),
                "user_id": str(token.user_id),
                "scopes": token.scopes,
                "expires_at": format_timestamp(token.expires_at) if token.expires_at else None,
            },
        )

    def token_revoked(self, token: IssuedToken) -> None:
        self.events.emit(TOKEN_REVOKED, {"token_id": str(token.id)})
        # Its login stays refused by the task service's copy of revoked sessions, for as long
        # as the token could have lasted.
        self.sessions_revoked([token.session_id], token.expires_at or NEVER)
