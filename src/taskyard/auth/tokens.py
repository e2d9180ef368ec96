"""Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from taskyard.config import Settings
from taskyard.db import utc_now
from taskyard.errors import Unauthorized
from taskyard.users.models import User

ALGORITHM = "HS256"
VERIFIED_CACHE_SIZE = 4096
ISSUER = "taskyard"
REQUIRED_CLAIMS = ["sub", "role", "jti", "iat", "exp", "sid"]


class InvalidToken(Unauthorized):
    message = "Invalid token"


class ExpiredToken(Unauthorized):
    message = "Token expired"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    value: str
    token_hash: str
    expires_at: datetime


def hash_refresh_token(value: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(value.encode()).hexdigest()


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.signing_key
        self._access_ttl = timedelta(seconds=settings.access_token_ttl)
        self._refresh_ttl = timedelta(seconds=settings.refresh_token_ttl)
        self._verified: dict[str, AccessClaims] = {}

    @property
    def access_ttl_seconds(self) -> float:
        return self._access_ttl.total_seconds()

    def issue_access(self, user: User, session_id: uuid.UUID) -> str:
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
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode_access(self, token: str) -> AccessClaims:
        """Verify and read an access token. A token verified before is not verified again
        (the limiter, the database router and the auth check all ask), only re-checked for
        expiry."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at.timestamp() > time.time():
                return known
            raise ExpiredToken()
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
            return AccessClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                session_id=uuid.UUID(str(claims["sid"])),
                role=str(claims["role"]),
                jti=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=utc_now().tzinfo),
            )
        except jwt.ExpiredSignatureError as error:
            raise ExpiredToken() from error
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError) as error:
            # A well-signed token can still hold absurd values (an `exp` of 1e20, say).
            raise InvalidToken() from error

    def new_refresh(self) -> NewRefreshToken:
        value = secrets.token_urlsafe(32)
        return NewRefreshToken(
            value=value,
            token_hash=hash_refresh_token(value),
            expires_at=utc_now() + self._refresh_ttl,
        )
