"""Who wrote a moment ago: their reads go to the primary, so their own writes never vanish
behind a lagging replica."""

from __future__ import annotations

from taskyard.cache.backend import CacheBackend


class RecentWriters:
    def __init__(self, backend: CacheBackend, *, window_seconds: float, prefix: str) -> None:
        self.backend = backend
        self.window_seconds = window_seconds
        self.prefix = f"{prefix}:wrote:"

    async def mark(self, user_id: str) -> None:
        if self.window_seconds > 0:
            await self.backend.set(self.prefix + user_id, b"1", self.window_seconds)

    async def wrote_recently(self, user_id: str) -> bool:
        if self.window_seconds <= 0:
            return False
        found = await self.backend.exists(self.prefix + user_id)
        return found is not False  # when the store can't tell, the primary is the safe answer
