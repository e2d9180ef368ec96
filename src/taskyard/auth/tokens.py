"""Issuing access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import jwt

from taskyard.access_tokens import HMAC_ALGORITHM, ISSUER
from taskyard.config import Settings
from taskyard.db import utc_now
from taskyard.users.models import User


class AccessSigner(Protocol):
    async def prepare(self) -> None:
        """Read what signing needs, before the request's transaction writes anything (on SQLite
        a second writer would wait for that transaction)."""
        ...

    async def sign(self, claims: dict[str, Any]) -> str: ...


class HmacSigner:
    """The monolith's HS256 signature: the same secret verifies it."""

    def __init__(self, key: str) -> None:
        self._key = key

    async def prepare(self) -> None:
        return None

    async def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm=HMAC_ALGORITHM)


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    value: str
    token_hash: str
    expires_at: datetime


def hash_refresh_token(value: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(value.encode()).hexdigest()


class TokenService:
    def __init__(
        self, settings: Settings, signer: AccessSigner | None = None, *, with_profile: bool = False
    ) -> None:
        self._signer = signer or HmacSigner(settings.signing_key)
        self._access_ttl = timedelta(seconds=settings.access_token_ttl)
        self._refresh_ttl = timedelta(seconds=settings.refresh_token_ttl)
        # The split task service fills its copy of a brand-new person from these.
        self._with_profile = with_profile

    async def prepare(self) -> None:
        await self._signer.prepare()

    @property
    def access_ttl_seconds(self) -> float:
        return self._access_ttl.total_seconds()

    async def issue_access(self, user: User, session_id: uuid.UUID) -> str:
        now = utc_now()
        claims = {
            "sub": str(user.id),
            "role": user.role.value,
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + self._access_ttl).timestamp()),
            "iss": ISSUER,
        }
        if self._with_profile:
            claims.update(name=user.name, email=user.email)
        return await self._signer.sign(claims)

    def new_refresh(self) -> NewRefreshToken:
        value = secrets.token_urlsafe(32)
        return NewRefreshToken(
            value=value,
            token_hash=hash_refresh_token(value),
            expires_at=utc_now() + self._refresh_ttl,
        )
