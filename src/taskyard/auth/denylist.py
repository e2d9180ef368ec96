"""Revoked access-token ids, remembered until the token would have expired anyway."""

from __future__ import annotations

import heapq
import time
from typing import Protocol


class TokenDenylist(Protocol):
    async def add(self, jti: str, expires_at_epoch: float) -> None: ...

    async def contains(self, jti: str) -> bool: ...


class InProcessDenylist:
    """For one process; the session check in the database still covers other instances."""

    def __init__(self) -> None:
        self._expiry_by_jti: dict[str, float] = {}
        self._expiry_heap: list[tuple[float, str]] = []

    async def add(self, jti: str, expires_at_epoch: float) -> None:
        self._forget_expired()
        self._expiry_by_jti[jti] = expires_at_epoch
        heapq.heappush(self._expiry_heap, (expires_at_epoch, jti))

    async def contains(self, jti: str) -> bool:
        expires_at = self._expiry_by_jti.get(jti)
        return expires_at is not None and expires_at > time.time()

    def _forget_expired(self) -> None:
        now = time.time()
        while self._expiry_heap and self._expiry_heap[0][0] <= now:
            _, jti = heapq.heappop(self._expiry_heap)
            self._expiry_by_jti.pop(jti, None)
