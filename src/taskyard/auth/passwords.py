"""Argon2id hashing, run off the event loop and bounded so it can't starve other threads."""

from __future__ import annotations

import os
import secrets

import anyio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from taskyard.config import Settings


class PasswordService:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._limiter = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))
        # Verified against when the email is unknown, so both failures cost the same time.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(
            self._check, password_hash, password, limiter=self._limiter
        )

    async def burn_time(self, password: str) -> None:
        """Spend what a real verification costs, for an account that does not exist."""
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
