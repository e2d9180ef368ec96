"""Where cached responses live: Redis when configured (shared by every instance), else in process.

Both fail open: a backend error reads as a miss, is counted, and the response comes from the
database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskyard.edge.metrics import CACHE_BACKEND_ERRORS
from taskyard.redis_client import BackendGuard


class CacheBackend(Protocol):
    shared: bool

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float, *, counter: str | None = None) -> None:
        """Store `value` for `ttl` seconds; `counter` (the version naming it) then lives on for
        at least `COUNTER_TTL_SECONDS` more."""
        ...

    async def exists(self, key: str) -> bool | None:
        """Whether the key is there; None when the backend can't tell."""
        ...

    async def incr_many(self, keys: Sequence[str]) -> bool:
        """Add one to each counter, all at once; False when the backend couldn't be reached."""
        ...

    async def get_int(self, key: str) -> int | None: ...


# How long a version counter outlives the last write or stored body under it. Longer than any
# cached body lives (TASKYARD_CACHE_TTL is at most a day), so a counter never expires, and
# counts up again from 0, while a body stored under one of its values is still there.
COUNTER_TTL_SECONDS = 7 * 24 * 3600


def expires_after_ttl(_key: str, value: tuple[float, bytes], now: float) -> float:
    """For a TLRUCache whose values are (time to live, value): when each one expires."""
    return now + value[0]


class InProcessCache:
    """A bounded LRU whose entries expire, private to this process."""

    shared = False

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        # Each entry is (its time to live, the body); cachetools drops it when that has passed.
        self._entries: TLRUCache[str, tuple[float, bytes]] = TLRUCache(
            maxsize=max_entries, ttu=expires_after_ttl
        )
        self._counters: dict[str, int] = {}

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None else None

    async def exists(self, key: str) -> bool | None:
        return key in self._entries

    async def set(self, key: str, value: bytes, ttl: float, *, counter: str | None = None) -> None:
        self._entries[key] = (ttl, value)  # this process's counters live as long as it does

    async def incr_many(self, keys: Sequence[str]) -> bool:
        for key in keys:
            self._counters[key] = self._counters.get(key, 0) + 1
        return True

    async def get_int(self, key: str) -> int | None:
        return self._counters.get(key, 0)


class RedisCache:
    shared = True

    def __init__(self, redis: Redis, guard: BackendGuard) -> None:
        self.redis = redis
        self.guard = guard

    async def get(self, key: str) -> bytes | None:
        if self.guard.should_skip():
            CACHE_BACKEND_ERRORS.labels(operation="get").inc()
            return None
        try:
            value = await self.redis.get(key)
        except RedisError as error:
            self._failed("get", error)
            return None
        self.guard.record_success()
        return value.encode() if isinstance(value, str) else value

    async def exists(self, key: str) -> bool | None:
        if self.guard.should_skip():
            return None
        try:
            found = bool(await self.redis.exists(key))
        except RedisError as error:
            self._failed("exists", error)
            return None
        return found

    async def set(self, key: str, value: bytes, ttl: float, *, counter: str | None = None) -> None:
        if self.guard.should_skip():
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(key, value, px=max(1, int(ttl * 1000)))
                if counter is not None:
                    pipe.expire(counter, COUNTER_TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            self._failed("set", error)

    async def incr_many(self, keys: Sequence[str]) -> bool:
        if self.guard.should_skip():
            return False
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, COUNTER_TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            self._failed("incr", error)
            return False
        self.guard.record_success()
        return True

    async def get_int(self, key: str) -> int | None:
        if self.guard.should_skip():
            return None
        try:
            raw = await self.redis.get(key)
        except RedisError as error:
            self._failed("get", error)
            return None
        return int(raw or 0)

    def _failed(self, operation: str, error: RedisError) -> None:
        CACHE_BACKEND_ERRORS.labels(operation=operation).inc()
        self.guard.record_failure(f"cache_{operation}", error)
