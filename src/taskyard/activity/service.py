"""The activity trail: each write to a task says what it changed, in its own transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from taskyard.activity.models import VALUE_MAX_LENGTH, Action
from taskyard.activity.repository import ActivityRepository
from taskyard.db import utc_now
from taskyard.identity import Viewer
from taskyard.schemas import PageQuery, format_timestamp


class TaskReader(Protocol):
    async def get(self, task_id: uuid.UUID, viewer: Viewer) -> Any:
        """The task if the viewer may read it; 404 otherwise."""
        ...


def _json(value: Any) -> str | None:
    """A value as the API shows it, as JSON text (None: the field had no value)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = format_timestamp(value)
    elif isinstance(value, Enum):
        value = value.value
    elif isinstance(value, uuid.UUID):
        value = str(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        value = sorted(str(item) for item in value)
    return json.dumps(value)[:VALUE_MAX_LENGTH]


class ActivityLog:
    """Collects a write's entries and adds them with one statement (`flush`)."""

    def __init__(self, repository: ActivityRepository) -> None:
        self.repository = repository
        self._entries: list[dict[str, Any]] = []

    def note(
        self,
        task_id: uuid.UUID,
        actor_id: uuid.UUID,
        action: Action,
        field: str | None = None,
        old: Any = None,
        new: Any = None,
    ) -> None:
        self._entries.append(
            {
                "id": uuid.uuid4(),
                "task_id": task_id,
                "actor_id": actor_id,
                "action": action,
                "field": field,
                "old_value": _json(old),
                "new_value": _json(new),
                "created_at": utc_now(),
            }
        )

    def changes(
        self, task_id: uuid.UUID, actor_id: uuid.UUID, changed: Sequence[tuple[str, Any, Any]]
    ) -> None:
        """One `changed` entry per field whose value did change."""
        for field, old, new in changed:
            if old != new:
                self.note(task_id, actor_id, Action.CHANGED, field, old, new)

    def take(self) -> list[dict[str, Any]]:
        """The entries noted so far, for a statement that writes them (`entries_insert`);
        they are no longer this log's to write."""
        entries, self._entries = self._entries, []
        return entries

    async def flush(self) -> None:
        await self.add(self.take())

    async def add(self, entries: list[dict[str, Any]]) -> None:
        await self.repository.add(entries)


class TaskTrail:
    """A task's trail, for whoever may read the task."""

    def __init__(self, repository: ActivityRepository, tasks: TaskReader) -> None:
        self.repository = repository
        self.tasks = tasks

    async def page(
        self, task_id: uuid.UUID, viewer: Viewer, query: PageQuery
    ) -> tuple[Sequence[Any], int]:
        await self.tasks.get(task_id, viewer)
        return await self.repository.page(task_id, limit=query.limit, offset=query.offset)


def parsed(value: str | None) -> Any:
    """A stored value as the API shows it."""
    return None if value is None else json.loads(value)
