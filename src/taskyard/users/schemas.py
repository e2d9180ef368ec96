from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field, StringConstraints

from taskyard.schemas import PageQuery, PatchInput, Resource, TextRule, Timestamp
from taskyard.users.models import Role


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


SearchTerm = Annotated[str, TextRule("Search", min_length=0, max_length=100, multiline=True)]
PersonName = Annotated[str, TextRule("Name", min_length=2, max_length=50)]
Email = Annotated[
    EmailStr,
    BeforeValidator(_strip),
    Field(max_length=254),
    AfterValidator(lambda email: email.lower()),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class UserRef(Resource):
    """The short form of a person, as embedded in a task."""

    name: str
    email: str


class UserOut(Resource):
    name: str
    email: str
    role: Role
    is_active: bool
    created_at: Timestamp
    last_login: Timestamp | None
    notifications: bool


class UserUpdate(PatchInput):
    """What an admin may change on an account."""

    name: PersonName | None = None
    role: Role | None = None
    is_active: bool | None = None


class UserListQuery(PageQuery):
    role: Role | None = None
    search: SearchTerm | None = None
