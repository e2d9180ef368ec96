"""Cache hits answered before routing.

A person's cached views (their list, their stats, one of their tasks) are found by the request
as sent: its path and query, and the caller. So a hit needs no route, no dependency and no
database, only the caller the caller layer vouched for and the body stored at their current
cache version. With Redis, the body is read in the caller layer's round trip, beside the
identity state it is checked against (`CacheRoundTrip`): a hit costs that single round trip.
In process, it costs none.

Only bodies the routes stored are ever served, so a request this layer answers is one the route
answered the same way for the same caller and version; everything else passes on to the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from taskyard.access_tokens import AccessClaims
from taskyard.cache.projects import ProjectViews, project_of
from taskyard.cache.service import (
    CACHE_HEADER,
    JSON,
    CachedBody,
    ResponseCache,
    note_miss,
)
from taskyard.edge.compression import Compression
from taskyard.edge.etag import send_whole
from taskyard.edge.metrics import CACHE_LOOKUPS
from taskyard.edge.observability import name_route
from taskyard.identity import caller_of
from taskyard.redis_client import Command

TASKS_PATH = "/api/v1/tasks"
_READ = "taskyard_cached_read"
_HIT_HEADERS = [(b"content-type", JSON.encode()), (CACHE_HEADER.lower().encode(), b"HIT")]
_ROUTES = {
    "list": TASKS_PATH,
    "stats": f"{TASKS_PATH}/stats",
    "task": f"{TASKS_PATH}/{{id}}",
    "project_list": TASKS_PATH,
    "project_stats": f"{TASKS_PATH}/stats",
}
_HITS = {view: CACHE_LOOKUPS.labels(view=view, result="hit") for view in _ROUTES}
log = structlog.get_logger(__name__)


def early_view(scope: Scope) -> str | None:
    """Which cached view a GET asks for, if any: a person's own, or a project's."""
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if path == TASKS_PATH:
        return "project_list" if project_of(scope) else "list"
    tail = path.removeprefix(TASKS_PATH + "/")
    if tail == path or not tail or "/" in tail:
        return None
    if tail == "stats":
        return "project_stats" if project_of(scope) else "stats"
    return "task"


_PROJECT_VIEWS = frozenset({"project_list", "project_stats"})


@dataclass(frozen=True, slots=True)
class _Read:
    name: str
    value: bytes | None


class CacheRoundTrip:
    """The cached body's read, as a part of the request's one Redis round trip
    (`RoundTripPart`): the key has no version in it, so it can be named before the version is
    known, and the version stored with the body is compared once it is."""

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache
        self.projects = ProjectViews(cache)

    def queue(self, scope: Scope, claims: AccessClaims, commands: list[Command]) -> int:
        space = self.cache.keys.current()
        view = early_view(scope)
        if not self.cache.enabled or view is None or space is None:
            return 0
        if view in _PROJECT_VIEWS:
            project = project_of(scope)
            assert project is not None
            queued = self.projects.commands(space, project, claims.user_id, scope)
            commands.extend(queued)
            scope.setdefault("state", {})[_READ] = (space, project)
            return len(queued)
        name = self.cache.user_key(space, claims.user_id, scope)
        commands.append(("GET", name))
        scope.setdefault("state", {})[_READ] = name
        return 1

    def keep(self, scope: Scope, replies: Sequence[Any]) -> None:
        state = scope["state"]
        if isinstance(state[_READ], tuple):  # a project's view
            space, project = state.pop(_READ)
            self.projects.keep(scope, space, project, replies)
            return
        (reply,) = replies
        if isinstance(reply, Exception):
            del state[_READ]
        else:
            state[_READ] = _Read(state[_READ], reply)


class EarlyCacheMiddleware:
    """Answers a cache hit for a person's own views; anything else goes on to the routes.

    It sits outside the conditional-request, compression and error layers, so a hit doesn't pay
    for passing through them: it answers If-None-Match and compresses as they would
    (`send_whole`, `Compression`), and a failure while looking goes on to the routes, which
    answer it."""

    def __init__(self, app: ASGIApp, *, cache: ResponseCache, compression: Compression) -> None:
        self.app = app
        self.cache = cache
        self.compression = compression
        self.projects = ProjectViews(cache)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        view = early_view(scope) if scope["type"] == "http" else None
        if view is None:
            return self.app(scope, receive, send)  # handed on: no frame of this layer stays
        return self._answer(view, scope, receive, send)

    async def _answer(self, view: str, scope: Scope, receive: Receive, send: Send) -> None:
        cached = await self._looked_up(scope, view)
        if cached is None:
            await self.app(scope, receive, send)
            return
        _HITS[view].inc()
        name_route(scope, _ROUTES[view])
        body, encoding, etag = self.compression.encode(scope, cached.body, cached.etag)
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"etag", etag.encode()),
            *_HIT_HEADERS,
            *encoding,
        ]
        start = {"type": "http.response.start", "status": 200, "headers": headers}
        await send_whole(start, body, Headers(scope=scope).get("if-none-match"), send)

    async def _looked_up(self, scope: Scope, view: str) -> CachedBody | None:
        try:
            return await self._cached(scope, view)
        except Exception:  # the routes answer; a cache's trouble never fails a read
            log.exception("early_cache_lookup_failed", view=view)
            return None

    async def _cached(self, scope: Scope, view: str) -> CachedBody | None:
        principal = caller_of(scope).principal
        if view in _PROJECT_VIEWS:
            project = project_of(scope)
            if principal is None or project is None:
                return None
            read = await self.projects.read(principal, project, scope)
            cached = self.projects.served(read) if read is not None else None
            if cached is not None:
                scope["state"]["user_id"] = str(principal.user_id)  # for the access log line
            return cached
        # Admins read anyone's task through the admin views, which the routes answer.
        if principal is None or (view == "task" and principal.is_admin):
            return None
        key = self.cache.key_for_user(principal, scope)
        if key is None:
            return None
        read = scope["state"].get(_READ)
        if isinstance(read, _Read) and read.name == key.name:
            cached = self.cache.read(key, read.value)
        else:
            cached = await self.cache.cached_body(key)
        if cached is None:
            note_miss(scope, key.name)
        else:
            scope["state"]["user_id"] = str(principal.user_id)  # for the access log line
        return cached
