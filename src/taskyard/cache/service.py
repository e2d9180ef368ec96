"""Cached JSON responses for task reads.

Keys always carry the caller: `<space>:resp:u:<id>:<request>` for a person's own views, where the
request is its path and query string exactly as sent, so that the early answer
(`cache/early.py`) can find a body before any route has parsed the request. The body is stored
with the version of the person's views it was made at, and its ETag. The version lives in the
identity store (Redis, or this process), comes with the identity check that runs anyway, and is
bumped after every write to that person's tasks commits, before the write is answered: from
then on a body of an older version is never served, on any instance. Admin views share one
generation counter in the backend, bumped likewise, which their keys name; they are cached only
in a shared backend (Redis).

In Redis the space is the server's current run (`KeySpace`): after a restart from a snapshot, or
a failover to a lagging replica, no body or counter from before is ever read; and a body read
while the server changed under the request is not trusted.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from taskyard.cache.backend import CacheBackend
from taskyard.db import after_commit
from taskyard.edge.etag import content_etag
from taskyard.edge.metrics import CACHE_LOOKUPS
from taskyard.identity import CacheVersion, IdentityStore, Principal
from taskyard.redis_client import KeySpace

JSON = "application/json"
CACHE_HEADER = "X-Cache"


@dataclass(frozen=True, slots=True)
class CacheKey:
    """Where a view's body is cached; the version counter it goes by (which must outlive the
    body; None where counters live in this process); the version a body must have been stored
    at to be served (None: the name says it, as an admin view's generation does); and whether
    this request has read the key already and found nothing it may serve."""

    name: str
    counter: str | None
    space: str
    version: int | None = None
    known_miss: bool = False


@dataclass(frozen=True, slots=True)
class CachedBody:
    body: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class Tagged:
    """A body with an ETag of its own kind (a task's version and digest); `keep`: whether
    the cache may keep it (not when others' writes change it without retiring the key)."""

    body: bytes
    etag: str
    keep: bool = True


def pack(version: int | None, etag: str, body: bytes) -> bytes:
    return f"{'-' if version is None else version} {etag}\n".encode() + body


def unpack(value: bytes | None, version: int | None) -> CachedBody | None:
    """The stored body and tag, if stored at `version` (any, when None)."""
    if value is None:
        return None
    head, newline, body = value.partition(b"\n")
    stored_version, _, etag = head.decode().partition(" ")
    if not newline or (version is not None and stored_version != str(version)):
        return None
    return CachedBody(body, etag)


_ADMIN_GENERATION = "resp-gen:admin"
_MISSED = "taskyard_cache_missed"
_DIGEST = "taskyard_request_digest"


def note_miss(scope: Scope, name: str) -> None:
    """This request read `name` and found nothing to serve: the route won't read it again."""
    scope.setdefault("state", {})[_MISSED] = name


class ResponseCache:
    def __init__(
        self,
        backend: CacheBackend,
        versions: IdentityStore,
        *,
        ttl: int,
        keys: KeySpace,
        enabled: bool = True,
    ) -> None:
        self.backend = backend
        self.versions = versions
        self.enabled = enabled
        self.ttl = ttl
        self.keys = keys
        # A write whose bump failed (backend down) leaves a debt: until it is paid, this
        # instance caches no admin view, and it pays before anything else once it can.
        self._admin_bump_owed = False
        # Likewise projects' counters (`cache/projects.py`): their names without the space.
        self._project_bumps_owed: set[str] = set()

    @staticmethod
    def _view_digest(view: str, query: BaseModel | None) -> str:
        canonical = view + "?" + (query.model_dump_json() if query is not None else "")
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    @staticmethod
    def request_digest(scope: Scope) -> str:
        """Names a request by its path and query as sent: the same URL, the same entry. Made
        once a request (the round trip, the early answer and the route all ask for it)."""
        state = scope.setdefault("state", {})
        digest: str | None = state.get(_DIGEST)
        if digest is None:
            canonical = scope["path"].encode() + b"?" + scope.get("query_string", b"")
            digest = state[_DIGEST] = hashlib.sha256(canonical).hexdigest()[:32]
        return digest

    @staticmethod
    def user_key(space: str, user_id: uuid.UUID, scope: Scope) -> str:
        """Where a person's body for this request lives."""
        return f"{space}:resp:u:{user_id}:{ResponseCache.request_digest(scope)}"

    def key_for_user(self, caller: Principal, scope: Scope) -> CacheKey | None:
        """The caller's own view of this request (their tasks, their stats, one of theirs)."""
        version: CacheVersion | None = caller.cache_version
        if not self.enabled or version is None:
            return None
        name = self.user_key(version.space, caller.user_id, scope)
        return CacheKey(
            name,
            self.versions.version_key(caller.user_id, version.space),
            version.space,
            version.number,
            known_miss=scope.get("state", {}).get(_MISSED) == name,
        )

    def after_write(
        self,
        session: AsyncSession,
        people: set[uuid.UUID],
        projects: Iterable[uuid.UUID] = (),
        *,
        access: bool = False,
    ) -> None:
        """Once this transaction commits, retire these people's views, these projects' views
        (and, with `access`, their members' admissions) and the admin views."""
        counters = {f"pver:{project}" for project in projects}
        if access:
            counters |= {f"pacc:{project}" for project in projects}

        async def expire() -> None:
            # The people's versions, the admin generation and the projects' counters in one
            # round trip when all live in the same Redis.
            together = self.backend.shared and self.versions.shared
            if not together:
                await self.versions.bump_versions(people)
            admin = {_ADMIN_GENERATION} if self.backend.shared else set()
            if await self._bump_counters(admin | counters, people if together else ()):
                return
            if together:  # the store owes them itself while Redis is away
                await self.versions.bump_versions(people)
            self._admin_bump_owed = self._admin_bump_owed or bool(admin)
            self._project_bumps_owed |= counters

        after_commit(session, expire)

    def access_changed(self, session: AsyncSession, projects: Iterable[uuid.UUID]) -> None:
        """Once this transaction commits, these projects' members are checked again."""
        counters = {f"pacc:{project}" for project in projects}
        after_commit(session, lambda: self._bump_projects(counters))

    async def _bump_projects(self, counters: set[str]) -> None:
        if counters and not await self._bump_counters(counters):
            self._project_bumps_owed |= counters

    async def _bump_counters(self, names: set[str], people: Iterable[uuid.UUID] = ()) -> bool:
        """One more on each counter (named without the space) and on these people's versions
        in the shared identity store, in one round trip."""
        people = sorted(people)
        if not names and not people:
            return True
        ordered = sorted(names)
        for _ in range(3):  # again if the server changed under it
            space = self.keys.current()
            if space is None:
                return False
            keys = [f"{space}:{name}" for name in ordered]
            keys += [key for person in people if (key := self.versions.version_key(person, space))]
            if not await self.backend.incr_many(keys):
                return False
            if self.keys.holds(space):
                return True
        return False

    async def pay_debts(self) -> bool:
        """Make the bumps owed since an outage; True when nothing is owed any more."""
        owed, self._project_bumps_owed = self._project_bumps_owed, set()
        await self._bump_projects(owed)
        return await self._pay_admin_debt() and not self._project_bumps_owed

    async def key_for_admin(self, view: str, query: BaseModel | None = None) -> CacheKey | None:
        """None when admin views can't be cached safely (no shared backend, or it is down)."""
        if not (self.enabled and self.backend.shared):
            return None
        if not await self._pay_admin_debt():
            return None
        space = self.keys.current()
        if space is None:
            return None
        counter = self._admin_generation_key(space)
        generation = await self.backend.get_int(counter)
        if generation is None or not self.keys.holds(space):
            return None
        name = f"{space}:resp:a:{generation}:{self._view_digest(view, query)}"
        return CacheKey(name, counter, space)

    @staticmethod
    def _admin_generation_key(space: str) -> str:
        return f"{space}:{_ADMIN_GENERATION}"

    async def _bump_admin_generation(self) -> bool:
        return await self._bump_counters({_ADMIN_GENERATION})

    async def _pay_admin_debt(self) -> bool:
        """Bump the admin generation owed since an outage; False while that can't be done."""
        if self._admin_bump_owed and await self._bump_admin_generation():
            self._admin_bump_owed = False
        return not self._admin_bump_owed

    async def cached_body(self, key: CacheKey) -> CachedBody | None:
        """The body stored under `key` at its version, if the server that answered is still of
        its space."""
        return self.read(key, await self.backend.get(key.name))

    def read(self, key: CacheKey, value: bytes | None) -> CachedBody | None:
        """What `value`, read from `key`'s name, serves (None: nothing)."""
        if value is None or (self.backend.shared and not self.keys.holds(key.space)):
            return None
        return unpack(value, key.version)

    async def respond(
        self,
        view: str,
        key: CacheKey | None,
        produce: Callable[[], Awaitable[BaseModel | bytes | Tagged]],
    ) -> Response:
        """The cached body when there is one (X-Cache: HIT), else produce, store and send it;
        with its ETag either way (stored beside the body, so nothing parses a body for it)."""
        if self._admin_bump_owed or self._project_bumps_owed:  # Redis is back for everyone
            await self.pay_debts()
        if key is not None and not key.known_miss:
            cached = await self.cached_body(key)
            if cached is not None:
                CACHE_LOOKUPS.labels(view=view, result="hit").inc()
                return cached_response(cached, "HIT")
        CACHE_LOOKUPS.labels(view=view, result="miss").inc()
        produced = await produce()
        if isinstance(produced, Tagged):
            made = CachedBody(produced.body, produced.etag)
            key = key if produced.keep else None
        else:
            body = (
                produced
                if isinstance(produced, bytes)
                else produced.model_dump_json(by_alias=True).encode()
            )
            made = CachedBody(body, content_etag(body))
        if key is not None:
            packed = pack(key.version, made.etag, made.body)
            await self.backend.set(key.name, packed, self.ttl, counter=key.counter)
        return cached_response(made, "MISS")


def cached_response(cached: CachedBody, outcome: str) -> Response:
    return Response(
        cached.body, media_type=JSON, headers={CACHE_HEADER: outcome, "ETag": cached.etag}
    )
