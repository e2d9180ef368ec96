from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StrictBool, WithJsonSchema

from taskyard.identity.roles import Role
from taskyard.schemas import PageQuery, PatchInput, Resource, TextRule, Timestamp


def _email(value: str) -> str:
    """A syntactically valid address, normalised and lower-cased. The reserved `.test` domain
    is allowed (test suites and fuzzers use it); deliverability is not checked here."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValueError(f"value is not a valid email address: {error}") from error
    return checked.normalized.lower()


# Text that may hold anything but NUL (PostgreSQL can't store it), as the schema says.
NO_NUL = "^[^\\x00]*$"


SearchTerm = Annotated[str, TextRule("Search", min_length=0, max_length=100, multiline=True)]
PersonName = Annotated[str, TextRule("Name", min_length=2, max_length=50)]
Email = Annotated[
    str,
    Field(max_length=254),
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]
PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH = 8, 128


def _password(value: str) -> str:
    if len(value) < PASSWORD_MIN_LENGTH:
        raise ValueError(f"Password must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(value) > PASSWORD_MAX_LENGTH:
        raise ValueError(f"Password must be at most {PASSWORD_MAX_LENGTH} characters")
    return value


Password = Annotated[
    str,
    AfterValidator(_password),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": PASSWORD_MIN_LENGTH,
            "maxLength": PASSWORD_MAX_LENGTH,
            "pattern": NO_NUL,
        }
    ),
]


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
    is_active: StrictBool | None = None


class UserListQuery(PageQuery):
    role: Role | None = None
    search: SearchTerm | None = None
