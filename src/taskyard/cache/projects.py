"""Cached views of a project: its task list and its counts, one body for all its members.

A write to a project's tasks retires its views with one INCR of the project's version, however
many members it has; a body is served only at the version it was made at. Who may read is kept
beside it: a member's admission (`<generation> <rank>`) is written when the database said they
are in, and holds only while the project's access generation is still the one read before that
check; any change of members or teams bumps the generation, so a removed member is refused on
their very next request, on every instance.

Both counters are read before the database is asked, and what it answered is stored under what
was read: a write that lands in between leaves the new entry stale, never a stale entry fresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from taskyard.cache.service import CachedBody, CacheKey, ResponseCache, unpack
from taskyard.identity import Principal
from taskyard.redis_client import Command

_READ = "taskyard_project_read"


_PROJECT = "taskyard_view_project"


def project_of(scope: Scope) -> uuid.UUID | None:
    """The project a GET of the task list or counts names, when the view is the same for every
    member (an explicit `scope` makes it the caller's own). Read once a request."""
    query = scope.get("query_string", b"")
    if b"projectId=" not in query:
        return None
    state = scope.setdefault("state", {})
    if _PROJECT not in state:
        state[_PROJECT] = _named_project(query)
    project: uuid.UUID | None = state[_PROJECT]
    return project


def _named_project(query: bytes) -> uuid.UUID | None:
    project: uuid.UUID | None = None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "scope":
            return None
        if name == "projectId":
            if project is not None:
                return None  # named twice: let the route decide
            try:
                project = uuid.UUID(value)
            except ValueError:
                return None
    return project


@dataclass(frozen=True, slots=True)
class ProjectRead:
    """What was read about a project's view before the database was asked."""

    project_id: uuid.UUID
    space: str
    version: int
    generation: int
    admission: bytes | None
    body: bytes | None


class ProjectViews:
    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache

    @staticmethod
    def version_key(space: str, project_id: uuid.UUID) -> str:
        return f"{space}:pver:{project_id}"

    @staticmethod
    def access_key(space: str, project_id: uuid.UUID) -> str:
        return f"{space}:pacc:{project_id}"

    @staticmethod
    def admission_key(space: str, project_id: uuid.UUID, user_id: uuid.UUID) -> str:
        return f"{space}:pmem:{project_id}:{user_id}"

    def body_key(self, space: str, project_id: uuid.UUID, scope: Scope) -> str:
        return f"{space}:resp:p:{project_id}:{self.cache.request_digest(scope)}"

    def _names(
        self, space: str, project_id: uuid.UUID, user_id: uuid.UUID, scope: Scope
    ) -> list[str]:
        return [
            self.version_key(space, project_id),
            self.access_key(space, project_id),
            self.admission_key(space, project_id, user_id),
            self.body_key(space, project_id, scope),
        ]

    def commands(
        self, space: str, project_id: uuid.UUID, user_id: uuid.UUID, scope: Scope
    ) -> list[Command]:
        """One MGET of the version, the access generation, the admission and the body."""
        return [("MGET", *self._names(space, project_id, user_id, scope))]

    def keep(self, scope: Scope, space: str, project_id: uuid.UUID, replies: Sequence[Any]) -> None:
        """The round trip's reply to `commands` (nothing is kept if it failed)."""
        (reply,) = replies
        if isinstance(reply, Exception):
            return
        version, generation, admission, body = reply
        scope.setdefault("state", {})[_READ] = ProjectRead(
            project_id, space, int(version or 0), int(generation or 0), admission, body
        )

    async def read(
        self, principal: Principal, project_id: uuid.UUID, scope: Scope
    ) -> ProjectRead | None:
        """The counters, the caller's admission and the body, from the request's round trip
        or read now; None when the view can't be cached (an admin, the backend away)."""
        cache = self.cache
        if not cache.enabled or principal.is_admin or principal.cache_version is None:
            return None
        if not await cache.pay_debts():
            return None
        read = scope.get("state", {}).get(_READ)
        space = cache.keys.current()
        if space is None:
            return None
        if not (
            isinstance(read, ProjectRead) and read.project_id == project_id and read.space == space
        ):
            version_name, access_name, admission_name, body_name = self._names(
                space, project_id, principal.user_id, scope
            )
            version = await cache.backend.get_int(version_name)
            generation = await cache.backend.get_int(access_name)
            if version is None or generation is None:
                return None
            admission = await cache.backend.get(admission_name)
            body = await cache.backend.get(body_name)
            read = ProjectRead(project_id, space, version, generation, admission, body)
        if cache.backend.shared and not cache.keys.holds(space):
            return None
        return read

    def served(self, read: ProjectRead) -> CachedBody | None:
        """The body, if the caller's admission is of the current generation and the body of
        the current version."""
        if read.admission is None or read.body is None:
            return None
        generation, _, rank = read.admission.decode().partition(" ")
        if generation != str(read.generation) or not rank.isdigit():
            return None
        return unpack(read.body, read.version)

    def key(self, read: ProjectRead, scope: Scope) -> CacheKey:
        """Where the route stores the body it made; never read there: the route has just asked
        the database whether the caller may see it."""
        return CacheKey(
            self.body_key(read.space, read.project_id, scope),
            self.version_key(read.space, read.project_id),
            read.space,
            read.version,
            known_miss=True,
        )

    async def admit(self, read: ProjectRead, user_id: uuid.UUID, rank: int) -> None:
        """The database said this person is in the project: their admission, under the
        generation read before it was asked."""
        await self.cache.backend.set(
            self.admission_key(read.space, read.project_id, user_id),
            f"{read.generation} {rank}".encode(),
            self.cache.ttl,
            counter=self.access_key(read.space, read.project_id),
        )
