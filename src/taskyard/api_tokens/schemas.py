from __future__ import annotations

from typing import Annotated

from pydantic import Field

from taskyard.identity.scopes import TokenScope
from taskyard.schemas import Resource, StrictInput, TextRule, Timestamp
from taskyard.tasks.schemas import DueDate

TokenName = Annotated[str, TextRule("Name", min_length=1, max_length=100)]


class TokenCreate(StrictInput):
    name: TokenName
    scopes: list[TokenScope] = Field(min_length=1, max_length=len(TokenScope))
    # None: it lasts until revoked.
    expires_at: DueDate = None


class TokenOut(Resource):
    name: str
    scopes: list[TokenScope]
    prefix: str = Field(description="Its first characters, to tell it apart")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Its first use on an instance, lately")
    expires_at: Timestamp | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again")
