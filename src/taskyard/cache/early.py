"""Cache hits answered before routing.

A person's cached views (their list, their stats, one of their tasks) are found by the request
as sent: its path and query, the caller, and the caller's cache version. So a hit needs no route,
no dependency and no database, only what the identity store says about the caller. With Redis,
the rate limiter's one call reads the caller's identity state and then the body named by the
cache version it found: a hit costs that single round trip. In process, it costs none.

Only bodies the routes stored are ever served, so a request this layer answers is one the route
answered the same way for the same caller and version; everything else passes on to the routes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from taskyard.access_tokens import AccessClaims, TokenVerifier
from taskyard.cache.service import CACHE_HEADER, JSON, ResponseCache
from taskyard.edge.metrics import CACHE_LOOKUPS
from taskyard.edge.observability import name_route
from taskyard.edge.rate_limit import LookedUp, Lookups
from taskyard.identity import (
    IdentityStore,
    Prefetched,
    Voucher,
    claims_of,
    prefetched,
    remember_prefetched,
)

TASKS_PATH = "/api/v1/tasks"
_BODY = "taskyard_cached_body"
_SPACE = "taskyard_prefetch_space"
_HIT_HEADERS = [(b"content-type", JSON.encode()), (CACHE_HEADER.lower().encode(), b"HIT")]
_ROUTES = {"list": TASKS_PATH, "stats": f"{TASKS_PATH}/stats", "task": f"{TASKS_PATH}/{{id}}"}
_HITS = {view: CACHE_LOOKUPS.labels(view=view, result="hit") for view in _ROUTES}


def early_view(scope: Scope) -> str | None:
    """Which of a person's cached views a GET asks for, if any."""
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if path == TASKS_PATH:
        return "list"
    tail = path.removeprefix(TASKS_PATH + "/")
    if tail == path or not tail or "/" in tail:
        return None
    return "stats" if tail == "stats" else "task"


class CacheReadAhead:
    """For the rate limiter's Redis call: the caller's identity keys, then their cached body."""

    def __init__(self, identity: IdentityStore, cache: ResponseCache) -> None:
        self.identity = identity
        self.cache = cache

    def plan(self, scope: Scope, claims: AccessClaims) -> Lookups:
        prefetch = self.identity.prefetch(claims)  # the cache version comes last
        if prefetch is None:
            return Lookups()
        scope.setdefault("state", {})[_SPACE] = prefetch.namespace
        if not self.cache.enabled or early_view(scope) is None:
            return Lookups(prefetch.keys)
        parts = self.cache.user_key_parts(prefetch.namespace, claims.user_id, scope)
        return Lookups(prefetch.keys, parts)

    def keep(self, scope: Scope, found: LookedUp) -> None:
        namespace: str = scope["state"][_SPACE]
        if not self.cache.keys.holds(namespace):
            return  # the server changed while the call was on its way: read it all again
        remember_prefetched(scope, Prefetched(namespace, found.values))
        scope["state"][_BODY] = found.followed


class EarlyCacheMiddleware:
    """Answers a cache hit for a person's own views; anything else goes on to the routes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: ResponseCache,
        verifier: TokenVerifier,
        authenticator: Voucher,
    ) -> None:
        self.app = app
        self.cache = cache
        self.verifier = verifier
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        view = early_view(scope) if scope["type"] == "http" else None
        claims = await claims_of(scope, self.verifier) if view is not None else None
        body = await self._cached(scope, claims, view) if claims is not None else None
        if body is None or view is None:
            await self.app(scope, receive, send)
            return
        _HITS[view].inc()
        name_route(scope, _ROUTES[view])
        headers = [(b"content-length", str(len(body)).encode()), *_HIT_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _cached(self, scope: Scope, claims: AccessClaims, view: str | None) -> bytes | None:
        state = scope.setdefault("state", {})
        read_ahead = _BODY in state
        body: bytes | None = state.get(_BODY)
        if read_ahead and body is None:
            return None  # a miss, already known
        known = await self.cache.versions.lookup(claims, prefetched(scope))
        principal = await self.authenticator.vouch(claims, known)
        # Admins read anyone's task through the admin views, which the routes answer.
        if principal is None or (view == "task" and principal.is_admin):
            return None
        if not read_ahead:
            key = self.cache.key_for_user(principal, scope)
            body = await self.cache.cached_body(key) if key is not None else None
        if body is not None:
            state["user_id"] = str(principal.user_id)  # for the access log line
        return body
