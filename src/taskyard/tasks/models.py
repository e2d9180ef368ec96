from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taskyard.db import Base, UTCDateTime, str_enum, utc_now
from taskyard.projects import personal as _personal  # noqa: F401  (every person's project)
from taskyard.tasks.ordering import POSITION_MAX_LENGTH, key_for_now
from taskyard.users.models import User


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


class TaskPriority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RepeatUnit(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


PRIORITY_RANK = {TaskPriority.LOW: 0, TaskPriority.MEDIUM: 1, TaskPriority.HIGH: 2}


def _creators_project(context: Any) -> Any:
    """A task put nowhere else is in its creator's personal project, which has their id."""
    return context.get_current_parameters()["created_by_id"]


MAX_LABELS = 50
LABEL_IDS_MAX_LENGTH = MAX_LABELS * 37


def label_ids(text: str | None) -> list[uuid.UUID]:
    """The ids in a task's `label_ids_text`, in a stable order."""
    return sorted(uuid.UUID(part) for part in text.split(",")) if text else []


def label_ids_text(labels: Iterable[uuid.UUID]) -> str:
    return ",".join(str(label) for label in sorted(labels))


def repeat_rule(every: int | None, unit: RepeatUnit | str | None) -> dict[str, Any] | None:
    if every is None or unit is None:
        return None
    return {"every": every, "unit": RepeatUnit(unit).value}


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus), default=TaskStatus.PENDING)
    priority: Mapped[TaskPriority] = mapped_column(
        str_enum(TaskPriority), default=TaskPriority.MEDIUM
    )
    due_date: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The creator's personal project (the same id as theirs) unless it was put in another.
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), default=_creators_project
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    # 1 when created, one more on every write: the ETag, and what If-Match is checked against.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Its place on the board (`tasks.ordering`): unique within the project.
    position: Mapped[str] = mapped_column(String(POSITION_MAX_LENGTH), default=key_for_now)
    # Repeating: done, it comes back `repeat_every` `repeat_unit`s later.
    repeat_every: Mapped[int | None] = mapped_column(Integer, default=None)
    repeat_unit: Mapped[RepeatUnit | None] = mapped_column(str_enum(RepeatUnit), default=None)

    # Its labels' ids, kept on the row (comma-separated) so that a list reads them for free;
    # `task_labels` holds the same pairs for the label filter.
    label_ids_text: Mapped[str] = mapped_column(
        String(LABEL_IDS_MAX_LENGTH), default="", server_default=""
    )

    # lazy="raise": an accidental per-row owner load (N+1) fails loudly instead of running.
    owner: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")

    @property
    def labels(self) -> list[uuid.UUID]:
        return label_ids(self.label_ids_text)

    @property
    def repeat(self) -> dict[str, Any] | None:
        return repeat_rule(self.repeat_every, self.repeat_unit)

    __table_args__ = (
        # One index per list query actually issued: a person's tasks newest first (id breaks
        # ties), optionally filtered by status or by priority. Each also serves its count.
        Index("ix_tasks_owner_created", "created_by_id", created_at.desc(), id.desc()),
        Index("ix_tasks_owner_status", "created_by_id", "status", created_at.desc(), id.desc()),
        Index("ix_tasks_owner_priority", "created_by_id", "priority", created_at.desc(), id.desc()),
        # The admin view lists everyone's tasks newest first.
        Index("ix_tasks_created", created_at.desc(), id.desc()),
        # The reminder scan looks for what falls due soon.
        Index("ix_tasks_due_date", "due_date"),
        # A project's tasks newest first (also its board and its filters, within the project).
        Index("ix_tasks_project_created", "project_id", created_at.desc(), id.desc()),
        # A project's board: a column in order; no two tasks of a project at one place.
        Index("ix_tasks_project_status_position", "project_id", "status", "position", "id"),
        Index("uq_tasks_project_position", "project_id", "position", unique=True),
        # What others assigned to a person, newest first.
        Index("ix_tasks_assignee_created", "assignee_id", created_at.desc(), id.desc()),
    )


class DueReminder(Base):
    """One row per task and due date already reminded about: the scan's exactly-once guard."""

    __tablename__ = "due_reminders"

    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    due_date: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class RevokedSession(Base):
    """Split mode: a login the auth service ended, as the task service keeps it, until the
    session's access tokens have all expired. Redis tells every instance at once; this is what
    stays true when Redis forgets (a restart, a snapshot from before)."""

    __tablename__ = "revoked_sessions"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
