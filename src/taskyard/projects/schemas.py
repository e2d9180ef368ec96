from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from taskyard.projects.models import ProjectRole
from taskyard.schemas import (
    APIModel,
    PageQuery,
    PatchInput,
    Resource,
    StrictInput,
    TextRule,
    Timestamp,
)
from taskyard.users.schemas import Email

ProjectName = Annotated[str, TextRule("Name", min_length=1, max_length=100)]
ProjectDescription = Annotated[
    str, TextRule("Description", min_length=0, max_length=500, multiline=True)
]
# A role that can be given: ownership only moves by a transfer.
GivenRole = Literal["viewer", "editor", "admin"]


class ProjectCreate(StrictInput):
    name: ProjectName
    description: ProjectDescription = ""


class ProjectUpdate(PatchInput):
    name: ProjectName | None = None
    description: ProjectDescription | None = None


class ProjectOut(Resource):
    name: str
    description: str
    is_inbox: bool = Field(description="The person's personal project: never deleted or shared")
    role: ProjectRole | None = Field(
        description="The caller's role in it (the highest of their own and their teams'); "
        "null in an admin's view of a project they are not in"
    )
    created_at: Timestamp
    updated_at: Timestamp


class ProjectListQuery(PageQuery):
    # Admins only: every project, as they read every task.
    all: bool = False


class MemberAdd(StrictInput):
    email: Email
    role: GivenRole = "viewer"


class MemberUpdate(StrictInput):
    role: GivenRole


class MemberOut(APIModel):
    id: uuid.UUID
    mongo_id: uuid.UUID = Field(serialization_alias="_id")
    name: str
    email: str
    role: ProjectRole
    added_at: Timestamp


class Transfer(StrictInput):
    user_id: uuid.UUID


class TeamShare(StrictInput):
    team_id: uuid.UUID
    role: GivenRole = "viewer"


class TeamShareUpdate(StrictInput):
    role: GivenRole


class SharedTeamOut(APIModel):
    id: uuid.UUID
    name: str
    role: ProjectRole
    added_at: Timestamp


def project_out(project: Any, role: ProjectRole | None) -> ProjectOut:
    return ProjectOut.model_validate({**_columns(project), "role": role}, from_attributes=False)


def _columns(project: Any) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "is_inbox": project.is_inbox,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def member_out(row: Any) -> MemberOut:
    return MemberOut(
        id=row.id,
        mongo_id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        added_at=row.created_at,
    )


def team_out(row: Any) -> SharedTeamOut:
    return SharedTeamOut(id=row.id, name=row.name, role=row.role, added_at=row.created_at)
