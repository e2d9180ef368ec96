"""Who the caller is, resolved once per request, without the database when it can be helped.

The token is verified once per request (`claims_of`), and whatever needs the caller reads that.
The state a request must check (the account's role and active flag, whether the login session is
still open, whether the token was revoked) and the caller's cache version come from an
`IdentityStore`: Redis when configured (every instance shares it), else this process's memory.
The database stays the source of truth: a miss, or a store that can't be reached, reads it.

Changes are written through after they commit. A changed account is forgotten with a tombstone
that a concurrent request, which read the old state from the database a moment before, can't
overwrite; a revoked session is remembered as revoked. So a logout, deactivation or demotion
bites on the very next request, on every instance.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import Scope

from taskyard.access_tokens import AccessClaims, TokenVerifier
from taskyard.cache.backend import COUNTER_TTL_SECONDS, expires_after_ttl
from taskyard.edge.metrics import REDIS_ERRORS
from taskyard.errors import AppError, Unauthorized
from taskyard.redis_client import BackendGuard
from taskyard.users.models import Role

# Long enough to spare the database, short enough that a missed write-through heals by itself.
STATE_TTL_SECONDS = 300
# Longer than any request takes between reading the database and remembering what it read.
TOMBSTONE_TTL_SECONDS = 60
MAX_IN_PROCESS_ENTRIES = 100_000
_CLAIMS = "taskyard_claims"
_PREFETCHED = "taskyard_identity_values"
_GONE = b"-"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as every domain sees them."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    role: Role
    jti: str
    expires_at: datetime
    # Names the version of the caller's task views, bumped after each write to them; None when
    # it can't be known (the store is away), and then nothing is served from the cache.
    cache_version: int | None

    @property
    def id(self) -> uuid.UUID:
        return self.user_id

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class Viewer(Protocol):
    """Anyone a service acts for: a `Principal`, or an account loaded from the database."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def is_admin(self) -> bool: ...


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


async def _verified(scope: Scope, verifier: TokenVerifier) -> AccessClaims | AppError | None:
    state = scope.setdefault("state", {})
    if _CLAIMS not in state:
        token = bearer_token(scope)
        try:
            state[_CLAIMS] = await verifier.verify(token) if token else None
        except AppError as error:
            state[_CLAIMS] = error
    outcome: AccessClaims | AppError | None = state[_CLAIMS]
    return outcome


async def claims_of(scope: Scope, verifier: TokenVerifier) -> AccessClaims | None:
    """The request's verified token claims, or None (no token, or not a valid one).
    Verified once per request; the limiter, the database routing and the auth check share it."""
    outcome = await _verified(scope, verifier)
    return outcome if isinstance(outcome, AccessClaims) else None


async def require_claims(scope: Scope, verifier: TokenVerifier) -> AccessClaims:
    """The claims, or the 401 that says why there are none (missing, invalid, expired)."""
    outcome = await _verified(scope, verifier)
    if outcome is None:
        raise Unauthorized("Not authorized, no token")
    if isinstance(outcome, AppError):
        raise outcome
    return outcome


def remember_prefetched(scope: Scope, values: list[bytes | None]) -> None:
    """Identity values read early (with the rate limiter's round trip), for the auth check."""
    scope.setdefault("state", {})[_PREFETCHED] = values


def prefetched(scope: Scope) -> list[bytes | None] | None:
    values: list[bytes | None] | None = scope.get("state", {}).get(_PREFETCHED)
    return values


@dataclass(frozen=True, slots=True)
class KnownState:
    """What the store knows about a caller; None fields are not known (ask the database)."""

    role: Role | None
    active: bool | None
    session_open: bool | None
    token_revoked: bool
    cache_version: int


class Voucher(Protocol):
    """Whatever can tell, from what the identity store knows alone, that a caller is in good
    standing (the auth service's `Authenticator`)."""

    async def vouch(self, claims: AccessClaims, known: KnownState | None) -> Principal | None: ...


class IdentityStore(Protocol):
    shared: bool

    def prefetch_keys(self, claims: AccessClaims) -> list[str]:
        """Keys that another Redis call of this request may read ahead (none in process)."""
        ...

    async def lookup(
        self, claims: AccessClaims, values: list[bytes | None] | None = None
    ) -> KnownState | None:
        """None when the store can't be reached: the database must answer everything.
        `values` are the `prefetch_keys` already read, which saves the round trip."""
        ...

    async def remember(
        self, user_id: uuid.UUID, role: Role, active: bool, session_id: uuid.UUID
    ) -> None:
        """Note what the database said (an open session), unless it changed since."""
        ...

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool: ...

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool: ...

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        """Retire the cached views of these people; False when the store couldn't be reached."""
        ...

    def version_key(self, user_id: uuid.UUID) -> str | None:
        """Where the person's version lives in a shared store (None in process)."""
        ...


def _account_value(role: Role, active: bool) -> bytes:
    return f"{role.value}|{int(active)}".encode()


def _parse_account(value: bytes | str | None) -> tuple[Role | None, bool | None]:
    if value is None or value in (_GONE, _GONE.decode()):
        return None, None
    text = value.decode() if isinstance(value, bytes) else value
    role, _, active = text.partition("|")
    return Role(role), active == "1"


def _parse_session(value: bytes | str | None) -> bool | None:
    if value is None:
        return None
    return value in (b"open", "open")


class InProcessIdentityStore:
    """For a single process (the embedded default): nothing else can change what it holds."""

    shared = False

    def __init__(self) -> None:
        # (time to live, value) per key, dropped by cachetools once the time is up; bounded,
        # and what is dropped early is read from the database again.
        self._values: TLRUCache[str, tuple[float, bytes]] = TLRUCache(
            maxsize=MAX_IN_PROCESS_ENTRIES, ttu=expires_after_ttl
        )
        self._versions: dict[uuid.UUID, int] = {}

    def _get(self, key: str) -> bytes | None:
        entry = self._values.get(key)
        return entry[1] if entry is not None else None

    def _set(self, key: str, value: bytes, ttl: float, *, only_if_absent: bool = False) -> None:
        if only_if_absent and key in self._values:
            return
        self._values[key] = (ttl, value)

    def prefetch_keys(self, claims: AccessClaims) -> list[str]:
        return []

    async def lookup(
        self, claims: AccessClaims, values: list[bytes | None] | None = None
    ) -> KnownState | None:
        role, active = _parse_account(self._get(f"u:{claims.user_id}"))
        return KnownState(
            role=role,
            active=active,
            session_open=_parse_session(self._get(f"s:{claims.session_id}")),
            token_revoked=False,  # the in-process denylist answers that
            cache_version=self._versions.get(claims.user_id, 0),
        )

    async def remember(
        self, user_id: uuid.UUID, role: Role, active: bool, session_id: uuid.UUID
    ) -> None:
        account = _account_value(role, active)
        self._set(f"u:{user_id}", account, STATE_TTL_SECONDS, only_if_absent=True)
        self._set(f"s:{session_id}", b"open", STATE_TTL_SECONDS, only_if_absent=True)

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool:
        for user_id in user_ids:
            self._set(f"u:{user_id}", _GONE, TOMBSTONE_TTL_SECONDS)
        return True

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool:
        for session_id in session_ids:
            self._set(f"s:{session_id}", b"revoked", ttl)
        return True

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        for user_id in user_ids:
            self._versions[user_id] = self._versions.get(user_id, 0) + 1
        return True

    def version_key(self, user_id: uuid.UUID) -> str | None:
        return None


class NoIdentityStore:
    """Several worker processes and no Redis: nothing can be shared, so the database answers
    every check (and the response cache is off)."""

    shared = False

    def prefetch_keys(self, claims: AccessClaims) -> list[str]:
        return []

    async def lookup(
        self, claims: AccessClaims, values: list[bytes | None] | None = None
    ) -> KnownState | None:
        return None

    async def remember(
        self, user_id: uuid.UUID, role: Role, active: bool, session_id: uuid.UUID
    ) -> None:
        return None

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool:
        return True

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool:
        return True

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        return True

    def version_key(self, user_id: uuid.UUID) -> str | None:
        return None


class RedisIdentityStore:
    """Shared by every instance. At most one round trip per lookup: the account, the session,
    the token's denylist entry and the cache version in one MGET, or none when the rate
    limiter's call already read them."""

    shared = True

    def __init__(self, redis: Redis, prefix: str, guard: BackendGuard) -> None:
        self.redis = redis
        self.prefix = prefix
        self.guard = guard
        # Write-throughs that failed (Redis away): until they are paid, this instance asks the
        # database for everything, and it pays them before anything else once Redis answers.
        self._owed_accounts: set[uuid.UUID] = set()
        self._owed_sessions: dict[uuid.UUID, float] = {}
        self._owed_versions: set[uuid.UUID] = set()

    def _account_key(self, user_id: uuid.UUID) -> str:
        return f"{self.prefix}:id:u:{user_id}"

    def _session_key(self, session_id: uuid.UUID) -> str:
        return f"{self.prefix}:id:s:{session_id}"

    def version_key(self, user_id: uuid.UUID) -> str:
        return f"{self.prefix}:ver:{user_id}"

    def denylist_key(self, jti: str) -> str:
        return f"{self.prefix}:denylist:{jti}"

    def _owes(self) -> bool:
        return bool(self._owed_accounts or self._owed_sessions or self._owed_versions)

    async def _pay_debts(self) -> bool:
        accounts, sessions, versions = (
            set(self._owed_accounts),
            dict(self._owed_sessions),
            set(self._owed_versions),
        )
        self._owed_accounts.clear()
        self._owed_sessions.clear()
        self._owed_versions.clear()
        await self.forget_accounts(accounts)
        for session_id, ttl in sessions.items():
            await self.revoke_sessions([session_id], ttl)
        await self.bump_versions(versions)
        return not self._owes()

    def prefetch_keys(self, claims: AccessClaims) -> list[str]:
        return [
            self._account_key(claims.user_id),
            self._session_key(claims.session_id),
            self.denylist_key(claims.jti),
            self.version_key(claims.user_id),
        ]

    async def lookup(
        self, claims: AccessClaims, values: list[bytes | None] | None = None
    ) -> KnownState | None:
        if self._owes() and not (await self._pay_debts()):
            return None
        if values is None:
            if self.guard.should_skip():
                return None
            try:
                read = await self.redis.mget(self.prefetch_keys(claims))
            except RedisError as error:
                self._failed("identity_lookup", error)
                return None
            self.guard.record_success()
            values = [value.encode() if isinstance(value, str) else value for value in read]
        account, session, revoked, version = values
        role, active = _parse_account(account)
        return KnownState(
            role=role,
            active=active,
            session_open=_parse_session(session),
            token_revoked=revoked is not None,
            cache_version=int(version or 0),
        )

    async def remember(
        self, user_id: uuid.UUID, role: Role, active: bool, session_id: uuid.UUID
    ) -> None:
        if self.guard.should_skip():
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(
                    self._account_key(user_id),
                    _account_value(role, active),
                    ex=STATE_TTL_SECONDS,
                    nx=True,
                )
                pipe.set(self._session_key(session_id), b"open", ex=STATE_TTL_SECONDS, nx=True)
                await pipe.execute()
        except RedisError as error:
            self._failed("identity_remember", error)

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool:
        chosen = set(user_ids)
        done = await self._write(
            "identity_forget",
            [(self._account_key(user_id), _GONE, TOMBSTONE_TTL_SECONDS) for user_id in chosen],
        )
        if not done:
            self._owed_accounts |= chosen
        return done

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool:
        chosen = set(session_ids)
        done = await self._write(
            "identity_revoke",
            [(self._session_key(session_id), b"revoked", ttl) for session_id in chosen],
        )
        if not done:
            self._owed_sessions.update(dict.fromkeys(chosen, ttl))
        return done

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        chosen = set(user_ids)
        if not chosen:
            return True
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for user_id in chosen:
                    pipe.incr(self.version_key(user_id))
                    pipe.expire(self.version_key(user_id), COUNTER_TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            self._failed("version_bump", error)
            self._owed_versions |= chosen
            return False
        return True

    async def _write(self, operation: str, entries: list[tuple[str, bytes, float]]) -> bool:
        if not entries:
            return True
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value, ttl in entries:
                    pipe.set(key, value, ex=max(1, int(ttl)))
                await pipe.execute()
        except RedisError as error:
            self._failed(operation, error)
            return False
        return True

    def _failed(self, operation: str, error: RedisError) -> None:
        REDIS_ERRORS.labels(operation=operation).inc()
        self.guard.record_failure(operation, error)
