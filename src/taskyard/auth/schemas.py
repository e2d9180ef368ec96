from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from taskyard.schemas import APIModel
from taskyard.users.schemas import Email, Password, PersonName, UserOut


class RegisterInput(APIModel):
    # Extra fields, `role` above all, are dropped: nobody registers themselves as admin.
    model_config = ConfigDict(extra="ignore")

    name: PersonName
    email: Email
    password: Password


class LoginInput(APIModel):
    model_config = ConfigDict(extra="ignore")

    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RefreshInput(APIModel):
    model_config = ConfigDict(extra="ignore")

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenPair(APIModel):
    token: str
    refresh_token: str


class AuthPayload(APIModel):
    user: UserOut
    token: str
    refresh_token: str


class MePayload(APIModel):
    user: UserOut
