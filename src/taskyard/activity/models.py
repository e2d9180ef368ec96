"""A task's activity: who did what and when, written in the transaction of the change."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from taskyard.db import Base, UTCDateTime, str_enum, utc_now

VALUE_MAX_LENGTH = 1000  # a description is 500 characters, a label list 50 ids


class Action(enum.StrEnum):
    CREATED = "created"
    CHANGED = "changed"  # one field: its old and new value
    MOVED = "moved"  # to another project, or on the board
    ASSIGNED = "assigned"
    LABELLED = "labelled"
    COMMENTED = "commented"
    COMPLETED = "completed"  # a repeating task done once; it comes back


class TaskActivity(Base):
    __tablename__ = "task_activity"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    # Kept when the person's account goes: the trail still says what happened.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[Action] = mapped_column(str_enum(Action))
    field: Mapped[str | None] = mapped_column(String(30), default=None)
    old_value: Mapped[str | None] = mapped_column(String(VALUE_MAX_LENGTH), default=None)
    new_value: Mapped[str | None] = mapped_column(String(VALUE_MAX_LENGTH), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (
        Index("ix_task_activity_task_created", "task_id", created_at.desc(), id.desc()),
    )
