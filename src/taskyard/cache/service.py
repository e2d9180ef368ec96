"""Cached JSON responses for task reads.

Keys always carry the caller: `user:<id>:<tasks_version>` for a person's own views, where
`tasks_version` lives on the user's row and is bumped in the same transaction as every write
to that person's tasks, so the auth lookup that runs anyway yields a key that can't be stale.
Admin views share one generation counter in the backend, bumped after each task write commits;
they are cached only in a shared backend (Redis), where every instance sees that bump.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from fastapi import Response
from pydantic import BaseModel

from taskyard.cache.backend import CacheBackend
from taskyard.edge.metrics import CACHE_LOOKUPS
from taskyard.users.models import User

JSON = "application/json"
CACHE_HEADER = "X-Cache"


class ResponseCache:
    def __init__(
        self, backend: CacheBackend, *, ttl: int, prefix: str, enabled: bool = True
    ) -> None:
        self.backend = backend
        self.enabled = enabled
        self.ttl = ttl
        self.prefix = f"{prefix}:resp"
        self._admin_generation_key = f"{prefix}:resp-gen:admin"
        # A write whose bump failed (backend down) leaves a debt: until it is paid, this
        # instance caches no admin view, and it pays before anything else once it can.
        self._admin_bump_owed = False

    @staticmethod
    def _digest(view: str, query: BaseModel | None) -> str:
        canonical = view + "?" + (query.model_dump_json() if query is not None else "")
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def key_for_user(self, user: User, view: str, query: BaseModel | None = None) -> str | None:
        if not self.enabled:
            return None
        return f"{self.prefix}:u:{user.id}:{user.tasks_version}:{self._digest(view, query)}"

    async def key_for_admin(self, view: str, query: BaseModel | None = None) -> str | None:
        """None when admin views can't be cached safely (no shared backend, or it is down)."""
        if not (self.enabled and self.backend.shared):
            return None
        if not await self._pay_admin_debt():
            return None
        generation = await self.backend.get_int(self._admin_generation_key)
        if generation is None:
            return None
        return f"{self.prefix}:a:{generation}:{self._digest(view, query)}"

    async def expire_admin_views(self) -> None:
        if self.backend.shared and not await self.backend.incr(self._admin_generation_key):
            self._admin_bump_owed = True

    async def _pay_admin_debt(self) -> bool:
        """Bump the admin generation owed since an outage; False while that can't be done."""
        if self._admin_bump_owed and await self.backend.incr(self._admin_generation_key):
            self._admin_bump_owed = False
        return not self._admin_bump_owed

    async def respond(
        self, view: str, key: str | None, produce: Callable[[], Awaitable[BaseModel]]
    ) -> Response:
        """The cached body when there is one (X-Cache: HIT), else produce, store and send it."""
        if self._admin_bump_owed:  # Redis is back for the other instances too: pay at once
            await self._pay_admin_debt()
        if key is not None:
            body = await self.backend.get(key)
            if body is not None:
                CACHE_LOOKUPS.labels(view=view, result="hit").inc()
                return Response(body, media_type=JSON, headers={CACHE_HEADER: "HIT"})
        CACHE_LOOKUPS.labels(view=view, result="miss").inc()
        body = (await produce()).model_dump_json(by_alias=True).encode()
        if key is not None:
            await self.backend.set(key, body, self.ttl)
        return Response(body, media_type=JSON, headers={CACHE_HEADER: "MISS"})
