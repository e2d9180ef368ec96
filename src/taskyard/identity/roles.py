"""What an account may do: the role every service checks (the account itself is the users
domain's)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"
