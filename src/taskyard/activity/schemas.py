from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from taskyard.activity.models import Action
from taskyard.schemas import APIModel, Timestamp
from taskyard.users.schemas import UserRef


class ActivityOut(APIModel):
    id: uuid.UUID
    action: Action
    field: str | None = Field(description="The field changed, by its name in the API")
    old_value: Any = Field(description="Its value before (JSON), null for none")
    new_value: Any = Field(description="Its value after (JSON), null for none")
    actor: UserRef | None = Field(description="Who did it; null once their account is gone")
    created_at: Timestamp
