from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from taskyard.schemas import APIModel, Resource, StrictInput, TextRule, Timestamp
from taskyard.users.schemas import Email

TeamName = Annotated[str, TextRule("Name", min_length=1, max_length=100)]


class TeamCreate(StrictInput):
    name: TeamName


class TeamOut(Resource):
    name: str
    is_manager: bool = Field(description="Whether the caller manages the team")
    created_at: Timestamp


class TeamMemberAdd(StrictInput):
    email: Email


class TeamMemberOut(APIModel):
    id: uuid.UUID
    mongo_id: uuid.UUID = Field(serialization_alias="_id")
    name: str
    email: str
    is_manager: bool
    added_at: Timestamp
