"""Revoked access-token ids, remembered until the token would have expired anyway."""

from __future__ import annotations

import math
import time
from typing import Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskyard.edge.metrics import REDIS_ERRORS
from taskyard.redis_client import BackendGuard, KeySpace


class TokenDenylist(Protocol):
    async def add(self, jti: str, expires_at_epoch: float) -> None: ...

    async def contains(self, jti: str) -> bool: ...


def _expires_at(_jti: str, expires_at_epoch: float, _now: float) -> float:
    return expires_at_epoch


class InProcessDenylist:
    """For one process; the session check in the database still covers other instances."""

    def __init__(self, max_entries: int = 100_000) -> None:
        # A token is listed until it would have expired anyway; cachetools forgets it then. Past
        # the bound the oldest go first; their sessions, revoked too, still refuse them.
        self._expiry_by_jti: TLRUCache[str, float] = TLRUCache(
            maxsize=max_entries, ttu=_expires_at, timer=time.time
        )

    async def add(self, jti: str, expires_at_epoch: float) -> None:
        self._expiry_by_jti[jti] = expires_at_epoch

    async def contains(self, jti: str) -> bool:
        return jti in self._expiry_by_jti


class RedisDenylist:
    """Shared by every instance, so a logout anywhere takes effect everywhere at once.

    If Redis is unreachable it fails open: the login session, revoked in the database, still
    stops the token on the next request. Entries live under the server's run (`KeySpace`),
    like the rest of the identity state.
    """

    def __init__(self, redis: Redis, keys: KeySpace, guard: BackendGuard) -> None:
        self.redis = redis
        self.keys = keys  # the identity store's: it reads these entries with the rest
        self.guard = guard

    @staticmethod
    def key(namespace: str, jti: str) -> str:
        return f"{namespace}:denylist:{jti}"

    async def add(self, jti: str, expires_at_epoch: float) -> None:
        ttl = math.ceil(expires_at_epoch - time.time())
        if ttl <= 0 or self.guard.should_skip():
            return
        try:
            namespace = await self.keys.resolve(self.redis)
            if namespace is not None:
                await self.redis.set(self.key(namespace, jti), b"1", ex=ttl)
        except RedisError as error:
            self._failed("denylist_add", error)
        else:
            self.guard.record_success()

    async def contains(self, jti: str) -> bool:
        if self.guard.should_skip():
            return False
        try:
            namespace = await self.keys.resolve(self.redis)
            found = namespace is not None and bool(
                await self.redis.exists(self.key(namespace, jti))
            )
        except RedisError as error:
            self._failed("denylist_check", error)
            return False
        self.guard.record_success()
        return found and namespace is not None and self.keys.holds(namespace)

    def _failed(self, operation: str, error: RedisError) -> None:
        REDIS_ERRORS.labels(operation=operation).inc()
        self.guard.record_failure(operation, error)
