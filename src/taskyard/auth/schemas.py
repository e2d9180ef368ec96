from __future__ import annotations

from typing import Annotated

from pydantic import StrictBool, StringConstraints

from taskyard.schemas import APIModel, PatchInput, RequestModel
from taskyard.users.schemas import NO_NUL, Email, Password, PersonName, UserOut


class RegisterInput(RequestModel):
    """Extra fields, `role` above all, are dropped: nobody registers themselves as admin."""

    name: PersonName
    email: Email
    password: Password


class LoginInput(RequestModel):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NO_NUL)]


RefreshToken = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NO_NUL)]


class RefreshInput(RequestModel):
    """The web client sends no body: its refresh token comes in the HttpOnly cookie."""

    refresh_token: RefreshToken | None = None


class MeUpdate(PatchInput):
    """What people may change about themselves here."""

    name: PersonName | None = None
    notifications: StrictBool | None = None


class TokenPair(APIModel):
    token: str
    refresh_token: str


class AuthPayload(APIModel):
    user: UserOut
    token: str
    refresh_token: str


class MePayload(APIModel):
    user: UserOut
