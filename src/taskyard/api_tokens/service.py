"""Issuing, listing and revoking personal API tokens. Each token is a login of its own
(`AuthSession`), so revoking it ends that login the way a logout does, on every instance."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from typing import Any

from taskyard.api_tokens.models import PREFIX_LENGTH, ApiToken
from taskyard.api_tokens.repository import ApiTokenRepository
from taskyard.api_tokens.schemas import TokenCreate
from taskyard.api_tokens.verifier import TOKEN_PREFIX, token_hash
from taskyard.auth.repository import AuthRepository
from taskyard.db import after_commit, utc_now
from taskyard.errors import NotFound, ValidationFailed
from taskyard.identity.store import IdentityStore, Principal
from taskyard.users.feed import AccountFeed

_BASE62 = string.digits + string.ascii_letters
SECRET_LENGTH = 43  # base62 characters: 256 bits, more than the 32 random bytes asked for


class TokenNotFound(NotFound):
    message = "Token not found"


def new_token() -> str:
    return TOKEN_PREFIX + "".join(secrets.choice(_BASE62) for _ in range(SECRET_LENGTH))


class ApiTokenService:
    def __init__(
        self,
        tokens: ApiTokenRepository,
        auth: AuthRepository,
        identity: IdentityStore,
        revoked_ttl_seconds: float,
        feed: AccountFeed,
    ) -> None:
        self.feed = feed
        self.tokens = tokens
        self.auth = auth
        self.identity = identity
        # How long the identity store keeps a revocation before the database answers alone.
        self.revoked_ttl_seconds = revoked_ttl_seconds

    async def issue(self, owner: Principal, wanted: TokenCreate) -> tuple[ApiToken, str]:
        if wanted.expires_at is not None and wanted.expires_at <= utc_now():
            raise ValidationFailed("expiresAt", "Must be in the future")
        secret = new_token()
        login = await self.auth.open_session(owner.user_id)
        token = await self.tokens.add(
            ApiToken(
                session_id=login.id,
                user_id=owner.user_id,
                name=wanted.name,
                prefix=secret[:PREFIX_LENGTH],
                token_hash=token_hash(secret),
                scopes=",".join(sorted({scope.value for scope in wanted.scopes})),
                expires_at=wanted.expires_at,
            )
        )
        self.feed.token_issued(token)
        return token, secret

    async def of(self, owner: Principal) -> Sequence[ApiToken]:
        return await self.tokens.of_user(owner.user_id)

    async def revoke(self, owner: Principal, token_id: uuid.UUID) -> None:
        token = await self.tokens.remove(token_id, owner.user_id)
        if token is None:
            raise TokenNotFound()
        session_id = token.session_id
        await self.auth.revoke_session(session_id)
        self.feed.token_revoked(token)
        ttl = self.revoked_ttl_seconds
        after_commit(self.tokens.session, lambda: self.identity.revoke_sessions([session_id], ttl))


def token_out(token: ApiToken, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The token as the API shows it (never its hash); `extra`: the secret, when just made."""
    return {
        "id": token.id,
        "name": token.name,
        "scopes": token.scopes.split(","),
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        **(extra or {}),
    }
