"""Every person has a personal project from their account's first row on: it carries their own
id, so a task created without a project needs no lookup to find it. The project is made in the
transaction that adds the person, wherever that happens: sign-up and the CLI (the monolith),
the task service's copy of people (split mode); the migration made it for earlier accounts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection

from taskyard.db import utc_now
from taskyard.projects.models import Project, ProjectMember, ProjectRole
from taskyard.users.models import User

PERSONAL_PROJECT_NAME = "Inbox"


def personal_project_rows(user_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """The personal project's row and its owner's membership."""
    now = utc_now()
    project = {
        "id": user_id,
        "name": PERSONAL_PROJECT_NAME,
        "description": "",
        "is_inbox": True,
        "created_at": now,
        "updated_at": now,
    }
    owner = {
        "project_id": user_id,
        "user_id": user_id,
        "role": ProjectRole.OWNER,
        "created_at": now,
    }
    return project, owner


@event.listens_for(User, "after_insert")
def _add_personal_project(_mapper: Any, connection: Connection, user: User) -> None:
    project, owner = personal_project_rows(user.id)
    connection.execute(insert(Project), project)
    connection.execute(insert(ProjectMember), owner)
