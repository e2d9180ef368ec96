"""Verifying access tokens: who may call, as the token says, before any state is checked.

`HmacVerifier` checks the monolith's HS256 tokens with the shared secret. `KeySetVerifier`
checks the auth service's Ed25519 tokens against its published keys (JWKS), learning the keys
again when a token names one it doesn't know yet (a rotation), never per request.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import jwt
from starlette.types import Scope

from taskyard.errors import ServiceUnavailable, Unauthorized

ISSUER = "taskyard"
REQUIRED_CLAIMS = ["sub", "role", "jti", "iat", "exp", "sid"]
HMAC_ALGORITHM = "HS256"
KEY_SET_ALGORITHM = "EdDSA"
VERIFIED_CACHE_SIZE = 4096
# However many tokens name unknown keys, the key set is fetched at most this often.
MIN_REFETCH_SECONDS = 1.0


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
    # Carried by the split auth service's tokens, so the task service knows a person who signed
    # up a moment ago, before their account reached its copy of people.
    name: str | None = None
    email: str | None = None
    # A personal API token's scopes (`api_tokens.scopes`); None for a login's access token,
    # which may do whatever its person may.
    scopes: frozenset[str] | None = None


class TokenVerifier(Protocol):
    # Whether verifying needs keys fetched from elsewhere (readiness then reports them).
    fetches_keys: bool

    async def verify(self, token: str) -> AccessClaims:
        """The token's claims; `InvalidToken` or `ExpiredToken` when it is not good."""
        ...

    async def warm(self) -> None:
        """Have what verifying needs, so the first request doesn't wait for it (raises what
        fetching it raised)."""
        ...


def claims_from(payload: dict[str, Any]) -> AccessClaims:
    return AccessClaims(
        user_id=uuid.UUID(str(payload["sub"])),
        session_id=uuid.UUID(str(payload["sid"])),
        role=str(payload["role"]),
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=UTC),
        name=str(payload["name"]) if "name" in payload else None,
        email=str(payload["email"]) if "email" in payload else None,
    )


def _decode(token: str, key: Any, algorithm: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
        return claims_from(payload)
    except jwt.ExpiredSignatureError as error:
        raise ExpiredToken() from error
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError) as error:
        # A well-signed token can still hold absurd values (an `exp` of 1e20, say).
        raise InvalidToken() from error


class _Memo:
    """Tokens verified before are not verified again (the limiter, the database router and the
    auth check all ask), only re-checked for expiry."""

    def __init__(self) -> None:
        self._verified: dict[str, AccessClaims] = {}

    def get(self, token: str) -> AccessClaims | None:
        known = self._verified.get(token)
        if known is not None and known.expires_at.timestamp() <= time.time():
            raise ExpiredToken()
        return known

    def keep(self, token: str, claims: AccessClaims) -> AccessClaims:
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims


class HmacVerifier:
    fetches_keys = False

    def __init__(self, key: str) -> None:
        self._key = key
        self._memo = _Memo()

    async def warm(self) -> None:
        return None

    async def verify(self, token: str) -> AccessClaims:
        return self._memo.get(token) or self._memo.keep(
            token, _decode(token, self._key, HMAC_ALGORITHM)
        )


FetchKeySet = Callable[[], Awaitable[dict[str, Any]]]


class KeySetVerifier:
    """Ed25519 tokens against a key set: fetched once, then again only when a token names a key
    that isn't in it (one fetch at a time, at most one a second)."""

    fetches_keys = True

    def __init__(self, fetch: FetchKeySet) -> None:
        self._fetch = fetch
        self._keys: dict[str, Any] = {}
        self._memo = _Memo()
        self._lock = asyncio.Lock()
        self._fetched_at = float("-inf")

    async def verify(self, token: str) -> AccessClaims:
        known = self._memo.get(token)
        if known is not None:
            return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken() from error
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != KEY_SET_ALGORITHM:
            raise InvalidToken()
        key = self._keys.get(kid)
        if key is None:
            key = await self._learn(kid)
        return self._memo.keep(token, _decode(token, key, KEY_SET_ALGORITHM))

    async def warm(self) -> None:
        """Fetch the key set unless it is here already (at start, and for readiness)."""
        if not self._keys:
            async with self._lock:
                if not self._keys:
                    await self.refresh()

    async def refresh(self) -> None:
        """Fetch the key set now."""
        document = await self._fetch()
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []):
            try:
                key = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWTError:
                continue  # a key of a kind this verifier doesn't take
            if key.key_id is not None and key.algorithm_name == KEY_SET_ALGORITHM:
                keys[key.key_id] = key.key
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def _learn(self, kid: str) -> Any:
        async with self._lock:
            if kid not in self._keys:
                # Fetched a moment ago: wait out the rest of the second rather than refuse a
                # token whose key may have been published since.
                since = time.monotonic() - self._fetched_at
                if since < MIN_REFETCH_SECONDS:
                    await asyncio.sleep(MIN_REFETCH_SECONDS - since)
                try:
                    await self.refresh()
                except Exception as error:
                    # The key service is away: the token can't be checked either way yet.
                    raise ServiceUnavailable() from error
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken()
        return key


_CLAIMS = "taskyard_claims"


def put_claims(scope: Scope, claims: AccessClaims | None) -> None:
    """Set by the caller layer (identity/caller.py), once per request, before any other."""
    scope.setdefault("state", {})[_CLAIMS] = claims


def claims_in(scope: Scope) -> AccessClaims | None:
    """The request's verified claims (None: no token, or not a valid one), for the layers that
    need to know who calls without depending on the identity package."""
    claims: AccessClaims | None = scope.get("state", {}).get(_CLAIMS)
    return claims
