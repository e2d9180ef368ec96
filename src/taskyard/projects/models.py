"""Projects a person shares with others, the people and teams in them, and their roles.

A person's personal project (`is_inbox`) has the person's own id: a task created without a
project goes there without a lookup, and it exists from the account's first row on (see
`taskyard.projects.personal`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from taskyard.db import Base, UTCDateTime, str_enum, utc_now
from taskyard.teams import models as _teams  # noqa: F401  (project_teams refers to teams)


class ProjectRole(enum.StrEnum):
    """Each role includes the ones before it."""

    VIEWER = "viewer"  # reads the project, its tasks and their comments
    EDITOR = "editor"  # creates, changes, moves and deletes tasks
    ADMIN = "admin"  # manages members and teams
    OWNER = "owner"  # one per project: deletes it, hands it over

    @property
    def rank(self) -> int:
        return _RANK[self]

    def includes(self, other: ProjectRole) -> bool:
        return self.rank >= other.rank


_RANK = {role: rank for rank, role in enumerate(ProjectRole)}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    is_inbox: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ProjectMember(Base):
    """A person in a project by name (not through a team)."""

    __tablename__ = "project_members"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ProjectTeam(Base):
    """A project shared with every member of a team at once, at one role."""

    __tablename__ = "project_teams"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
