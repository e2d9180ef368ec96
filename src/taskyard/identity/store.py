"""Who the caller is, resolved once per request, without the database when it can be helped.

The token is verified once per request (`identity/caller.py`), and whatever needs the caller
reads that.
The state a request must check (the account's role and active flag, whether the login session is
still open, whether the token was revoked) and the caller's cache version come from an
`IdentityStore`: Redis when configured (every instance shares it), else this process's memory.
The database stays the source of truth: a miss, or a store that can't be reached, reads it.

Changes are written through after they commit. An account's state carries the stamp of the
row it was read from (`users.updated_at`, which a role or status change moves strictly forward):
a write only replaces an older stamp, so a concurrent request that read the old state a moment
before can't put it back, while the state a change wrote serves at once. A deleted account is
forgotten with a tombstone; a revoked session is remembered as revoked. So a logout,
deactivation or demotion bites on the very next request, on every instance.

In Redis every key lives under the server's current run (`KeySpace`): a Redis restarted from a
snapshot, or a lagging replica that took over, can't bring back state from the past.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from taskyard.access_tokens import AccessClaims
from taskyard.cache.backend import COUNTER_TTL_SECONDS, expires_after_ttl
from taskyard.edge.metrics import REDIS_ERRORS
from taskyard.identity.denylist import RedisDenylist
from taskyard.identity.roles import Role
from taskyard.redis_client import BackendGuard, KeySpace

# Long enough to spare the database, short enough that a missed write-through heals by itself.
STATE_TTL_SECONDS = 300
# Longer than any request takes between reading the database and remembering what it read.
TOMBSTONE_TTL_SECONDS = 60
MAX_IN_PROCESS_ENTRIES = 100_000
_GONE = b"-"


def stamp_of(moment: datetime) -> int:
    """A row's `updated_at` as the integer that orders account states (microseconds)."""
    return int(moment.timestamp() * 1_000_000)


class AccountState(NamedTuple):
    """What the database says of a caller: role, active flag, whether the login session is
    open, and the stamp of the account row it was read from."""

    role: Role
    active: bool
    session_open: bool
    stamp: int


@dataclass(frozen=True, slots=True)
class CacheVersion:
    """The version of a person's cached views, and the key space it counts in (the Redis
    server's run, or this process): bodies are named after both."""

    space: str
    number: int


@dataclass(frozen=True, slots=True)
class Prefetch:
    """Keys another Redis call of the request may read ahead, and the key space they are in."""

    namespace: str
    keys: list[str]


@dataclass(frozen=True, slots=True)
class Prefetched:
    namespace: str
    values: list[bytes | None]

    @classmethod
    def read(cls, namespace: str, values: list[bytes | str | None]) -> Prefetched:
        """The values as an MGET answered them (text from a client that decodes, else bytes)."""
        return cls(namespace, [v.encode() if isinstance(v, str) else v for v in values])


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
    cache_version: CacheVersion | None
    # What a personal API token may reach; None for a login.
    scopes: frozenset[str] | None = None

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


@dataclass(frozen=True, slots=True)
class KnownState:
    """What the store knows about a caller; None fields are not known (ask the database)."""

    role: Role | None
    active: bool | None
    session_open: bool | None
    token_revoked: bool
    cache_version: CacheVersion


class Voucher(Protocol):
    """Whatever can tell, from what the identity store knows alone, that a caller is in good
    standing (the auth service's `Authenticator`)."""

    async def vouch(self, claims: AccessClaims, known: KnownState | None) -> Principal | None: ...


class IdentityStore(Protocol):
    shared: bool

    def prefetch(self, claims: AccessClaims) -> Prefetch | None:
        """Keys that another Redis call of this request may read ahead (None in process, or
        while the key space is not known)."""
        ...

    async def lookup(
        self, claims: AccessClaims, prefetched: Prefetched | None = None
    ) -> KnownState | None:
        """None when the store can't be reached: the database must answer everything.
        `prefetched`: the `prefetch` keys already read, which saves the round trip."""
        ...

    async def remember(
        self, user_id: uuid.UUID, state: AccountState, session_id: uuid.UUID
    ) -> None:
        """Note what the database said (an open session), unless something newer is known."""
        ...

    async def account_changed(
        self, user_id: uuid.UUID, role: Role, active: bool, stamp: int
    ) -> bool:
        """A committed change of role or status, with its row's new stamp: served from now on."""
        ...

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool:
        """Deleted accounts: never served from the store again."""
        ...

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool: ...

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        """Retire the cached views of these people; False when the store couldn't be reached."""
        ...

    def version_key(self, user_id: uuid.UUID, space: str) -> str | None:
        """Where the person's version lives in a shared store (None in process)."""
        ...


def _account_value(role: Role, active: bool, stamp: int) -> bytes:
    return f"{role.value}|{int(active)}|{stamp}".encode()


def _parse_account(value: bytes | str | None) -> tuple[Role | None, bool | None, int]:
    """Role, active flag and stamp; a tombstone is (None, None) with a stamp above any."""
    if value is None:
        return None, None, -1
    text = value.decode() if isinstance(value, bytes) else value
    if text == _GONE.decode():
        return None, None, _NEWEST
    role, active, stamp = [*text.split("|"), "0"][:3]
    return Role(role), active == "1", int(stamp)


def _parse_session(value: bytes | str | None) -> bool | None:
    if value is None:
        return None
    return value in (b"open", "open")


_NEWEST = 2**62

# Replaces an account's state only with one of a newer stamp (a tombstone is never replaced).
_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  if current == '-' then return 0 end
  local stamp = tonumber(string.match(current, '|(%d+)$') or '0')
  if stamp >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


class InProcessIdentityStore:
    """For a single process (the embedded default): nothing else can change what it holds."""

    shared = False
    space = "local"

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

    def _set_if_newer(self, user_id: uuid.UUID, role: Role, active: bool, stamp: int) -> None:
        key = f"u:{user_id}"
        if _parse_account(self._get(key))[2] < stamp:
            self._set(key, _account_value(role, active, stamp), STATE_TTL_SECONDS)

    def prefetch(self, claims: AccessClaims) -> Prefetch | None:
        return None

    async def lookup(
        self, claims: AccessClaims, prefetched: Prefetched | None = None
    ) -> KnownState | None:
        role, active, _stamp = _parse_account(self._get(f"u:{claims.user_id}"))
        return KnownState(
            role=role,
            active=active,
            session_open=_parse_session(self._get(f"s:{claims.session_id}")),
            token_revoked=False,  # the in-process denylist answers that
            cache_version=CacheVersion(self.space, self._versions.get(claims.user_id, 0)),
        )

    async def remember(
        self, user_id: uuid.UUID, state: AccountState, session_id: uuid.UUID
    ) -> None:
        self._set_if_newer(user_id, state.role, state.active, state.stamp)
        self._set(f"s:{session_id}", b"open", STATE_TTL_SECONDS, only_if_absent=True)

    async def account_changed(
        self, user_id: uuid.UUID, role: Role, active: bool, stamp: int
    ) -> bool:
        self._set_if_newer(user_id, role, active, stamp)
        return True

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

    def version_key(self, user_id: uuid.UUID, space: str) -> str | None:
        return None


class NoIdentityStore:
    """Several worker processes and no Redis: nothing can be shared, so the database answers
    every check (and the response cache is off)."""

    shared = False

    def prefetch(self, claims: AccessClaims) -> Prefetch | None:
        return None

    async def lookup(
        self, claims: AccessClaims, prefetched: Prefetched | None = None
    ) -> KnownState | None:
        return None

    async def remember(
        self, user_id: uuid.UUID, state: AccountState, session_id: uuid.UUID
    ) -> None:
        return None

    async def account_changed(
        self, user_id: uuid.UUID, role: Role, active: bool, stamp: int
    ) -> bool:
        return True

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool:
        return True

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool:
        return True

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        return True

    def version_key(self, user_id: uuid.UUID, space: str) -> str | None:
        return None


# How often a write goes again when the server changed under it (a restart, a failover).
_WRITE_ROUNDS = 3
Fill = Callable[[Pipeline, str], Awaitable[None]]


class RedisIdentityStore:
    """Shared by every instance. At most one round trip per lookup: the account, the session,
    the token's denylist entry and the cache version in one MGET, or none when the rate
    limiter's call already read them."""

    shared = True

    def __init__(self, redis: Redis, keys: KeySpace, guard: BackendGuard) -> None:
        self.redis = redis
        self.keys = keys
        self.guard = guard
        self._set_if_newer = redis.register_script(_SET_IF_NEWER)
        # Write-throughs that failed (Redis away): until they are paid, this instance asks the
        # database for everything, and it pays them before anything else once Redis answers.
        # An account owed is written as its state (or a tombstone, None) when paid.
        self._owed_accounts: dict[uuid.UUID, tuple[Role, bool, int] | None] = {}
        self._owed_sessions: dict[uuid.UUID, float] = {}
        self._owed_versions: set[uuid.UUID] = set()

    @staticmethod
    def _account_key(namespace: str, user_id: uuid.UUID) -> str:
        return f"{namespace}:id:u:{user_id}"

    @staticmethod
    def _session_key(namespace: str, session_id: uuid.UUID) -> str:
        return f"{namespace}:id:s:{session_id}"

    def version_key(self, user_id: uuid.UUID, space: str) -> str:
        return f"{space}:ver:{user_id}"

    def _owes(self) -> bool:
        return bool(self._owed_accounts or self._owed_sessions or self._owed_versions)

    async def _pay_debts(self) -> bool:
        accounts, sessions, versions = (
            dict(self._owed_accounts),
            dict(self._owed_sessions),
            set(self._owed_versions),
        )
        self._owed_accounts.clear()
        self._owed_sessions.clear()
        self._owed_versions.clear()
        for user_id, state in accounts.items():
            if state is None:
                await self.forget_accounts([user_id])
            else:
                await self.account_changed(user_id, *state)
        for session_id, ttl in sessions.items():
            await self.revoke_sessions([session_id], ttl)
        await self.bump_versions(versions)
        return not self._owes()

    async def _namespace(self) -> str | None:
        """This run's key space (None when Redis can't say)."""
        namespace = self.keys.current()
        if namespace is not None or self.guard.should_skip():
            return namespace
        try:
            return await self.keys.resolve(self.redis)
        except RedisError as error:
            self._failed("identity_connect", error)
            return None

    def _names(self, namespace: str, claims: AccessClaims) -> list[str]:
        return [
            self._account_key(namespace, claims.user_id),
            self._session_key(namespace, claims.session_id),
            RedisDenylist.key(namespace, claims.jti),
            self.version_key(claims.user_id, namespace),
        ]

    def prefetch(self, claims: AccessClaims) -> Prefetch | None:
        namespace = self.keys.current()
        return None if namespace is None else Prefetch(namespace, self._names(namespace, claims))

    async def lookup(
        self, claims: AccessClaims, prefetched: Prefetched | None = None
    ) -> KnownState | None:
        if self._owes() and not (await self._pay_debts()):
            return None
        if prefetched is None:
            if self.guard.should_skip():
                return None
            namespace = await self._namespace()
            if namespace is None:
                return None
            try:
                read = await self.redis.mget(self._names(namespace, claims))
            except RedisError as error:
                self._failed("identity_lookup", error)
                return None
            self.guard.record_success()
            if not self.keys.holds(namespace):
                return None  # read from a server that has just changed: trust none of it
            prefetched = Prefetched.read(namespace, read)
        account, session, revoked, version = prefetched.values
        role, active, _stamp = _parse_account(account)
        return KnownState(
            role=role,
            active=active,
            session_open=_parse_session(session),
            token_revoked=revoked is not None,
            cache_version=CacheVersion(prefetched.namespace, int(version or 0)),
        )

    async def _pipelined(self, operation: str, fill: Fill) -> bool:
        """Run `fill`'s commands in this run's key space, again in the new one if the server
        changed meanwhile; False when Redis couldn't be reached."""
        for _ in range(_WRITE_ROUNDS):
            namespace = await self._namespace()
            if namespace is None:
                return False
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    await fill(pipe, namespace)
                    await pipe.execute()
            except RedisError as error:
                self._failed(operation, error)
                return False
            if self.keys.holds(namespace):
                return True
        return False

    def _fill_account(self, user_id: uuid.UUID, role: Role, active: bool, stamp: int) -> Fill:
        async def fill(pipe: Pipeline, namespace: str) -> None:
            await self._set_if_newer(
                keys=[self._account_key(namespace, user_id)],
                args=[_account_value(role, active, stamp), stamp, STATE_TTL_SECONDS],
                client=pipe,
            )

        return fill

    async def remember(
        self, user_id: uuid.UUID, state: AccountState, session_id: uuid.UUID
    ) -> None:
        if self.guard.should_skip():
            return
        account = self._fill_account(user_id, state.role, state.active, state.stamp)

        async def fill(pipe: Pipeline, namespace: str) -> None:
            await account(pipe, namespace)
            key = self._session_key(namespace, session_id)
            pipe.set(key, b"open", ex=STATE_TTL_SECONDS, nx=True)

        await self._pipelined("identity_remember", fill)

    async def account_changed(
        self, user_id: uuid.UUID, role: Role, active: bool, stamp: int
    ) -> bool:
        fill = self._fill_account(user_id, role, active, stamp)
        done = await self._pipelined("identity_account", fill)
        if not done:
            self._owed_accounts[user_id] = (role, active, stamp)
        return done

    async def forget_accounts(self, user_ids: Iterable[uuid.UUID]) -> bool:
        chosen = set(user_ids)

        async def fill(pipe: Pipeline, namespace: str) -> None:
            for user_id in chosen:
                key = self._account_key(namespace, user_id)
                pipe.set(key, _GONE, ex=TOMBSTONE_TTL_SECONDS)

        done = not chosen or await self._pipelined("identity_forget", fill)
        if not done:
            self._owed_accounts.update(dict.fromkeys(chosen))
        return done

    async def revoke_sessions(self, session_ids: Iterable[uuid.UUID], ttl: float) -> bool:
        chosen = set(session_ids)

        async def fill(pipe: Pipeline, namespace: str) -> None:
            for session_id in chosen:
                pipe.set(self._session_key(namespace, session_id), b"revoked", ex=max(1, int(ttl)))

        done = not chosen or await self._pipelined("identity_revoke", fill)
        if not done:
            self._owed_sessions.update(dict.fromkeys(chosen, ttl))
        return done

    async def bump_versions(self, user_ids: Iterable[uuid.UUID]) -> bool:
        chosen = set(user_ids)

        async def fill(pipe: Pipeline, namespace: str) -> None:
            for user_id in chosen:
                pipe.incr(self.version_key(user_id, namespace))
                pipe.expire(self.version_key(user_id, namespace), COUNTER_TTL_SECONDS)

        done = not chosen or await self._pipelined("version_bump", fill)
        if not done:
            self._owed_versions |= chosen
        return done

    def _failed(self, operation: str, error: RedisError) -> None:
        REDIS_ERRORS.labels(operation=operation).inc()
        self.guard.record_failure(operation, error)
