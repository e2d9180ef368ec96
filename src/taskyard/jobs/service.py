"""Emitting events: rows in the outbox, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import after_commit
from taskyard.jobs.repository import OutboxRepository


class EventPublisher:
    def __init__(
        self, session: AsyncSession, on_commit: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        self.outbox = OutboxRepository(session)
        self.session = session
        self.on_commit = on_commit

    def emit(self, event_type: str, payload: dict[str, Any]) -> None:
        """Record the event; it leaves only if the surrounding transaction commits."""
        self.outbox.add(event_type, payload)
        self._wake_after_commit(event_type)

    def written(self, event_types: list[str]) -> None:
        """Events a statement of the caller's wrote to the outbox: wake their relays at commit."""
        for event_type in event_types:
            self._wake_after_commit(event_type)

    def _wake_after_commit(self, event_type: str) -> None:
        if self.on_commit is not None:
            on_commit = self.on_commit
            after_commit(self.session, lambda: on_commit(event_type))
