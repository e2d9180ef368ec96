"""A proof-of-work challenge (ALTCHA, self-hosted) for suspicious sign-ins: after N failed logins
for one email or from one address within a window, login and register need a solved challenge.
Nobody else ever sees one, so the original clients work as before for everyone else."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import altcha
from redis.asyncio import Redis

from taskyard.config import Settings
from taskyard.errors import AppError
from taskyard.logging import get_logger

logger = get_logger("taskyard.challenge")

ALGORITHM = "PBKDF2/SHA-256"
SOLUTION_HEADER = "X-Altcha"
FIELD = "altcha"  # the error's field: the web client shows the widget when it sees it


class ChallengeRequired(AppError):
    status_code = 429
    message = (
        "Too many failed sign-ins: solve the challenge from GET /api/v1/auth/challenge "
        "and send the solution in the X-Altcha header"
    )

    def __init__(self) -> None:
        super().__init__(errors=[{"field": FIELD, "message": "Solve the challenge to continue"}])


class ChallengeRefused(AppError):
    status_code = 400
    message = "The challenge solution is not valid: solve a new challenge"

    def __init__(self, why: str) -> None:
        super().__init__(errors=[{"field": FIELD, "message": why}])


class FailureStore(Protocol):
    async def count_failure(self, keys: list[str], window_seconds: int) -> None: ...

    async def failures(self, key: str, window_seconds: int) -> int: ...

    async def first_use(self, key: str, ttl_seconds: int) -> bool: ...


class RedisFailureStore:
    """Shared by every instance: failures as sorted-set timestamps, used solutions as keys."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:challenge"

    async def count_failure(self, keys: list[str], window_seconds: int) -> None:
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                name = f"{self.prefix}:failures:{key}"
                pipe.zadd(name, {f"{now}:{id(pipe)}": now})
                pipe.zremrangebyscore(name, 0, now - window_seconds)
                pipe.expire(name, window_seconds)
            await pipe.execute()

    async def failures(self, key: str, window_seconds: int) -> int:
        name = f"{self.prefix}:failures:{key}"
        return int(await self.redis.zcount(name, time.time() - window_seconds, "+inf"))

    async def first_use(self, key: str, ttl_seconds: int) -> bool:
        return bool(await self.redis.set(f"{self.prefix}:used:{key}", 1, nx=True, ex=ttl_seconds))


class InProcessFailureStore:
    """For one process (the embedded default): the same rules, in memory."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._used: dict[str, float] = {}

    async def count_failure(self, keys: list[str], window_seconds: int) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
            self._prune(key, window_seconds)

    async def failures(self, key: str, window_seconds: int) -> int:
        self._prune(key, window_seconds)
        return len(self._failures.get(key, ()))

    def _prune(self, key: str, window_seconds: int) -> None:
        times = self._failures.get(key)
        while times and times[0] <= time.monotonic() - window_seconds:
            times.popleft()
        if times is not None and not times:
            del self._failures[key]

    async def first_use(self, key: str, ttl_seconds: int) -> bool:
        now = time.monotonic()
        self._used = {k: until for k, until in self._used.items() if until > now}
        if key in self._used:
            return False
        self._used[key] = now + ttl_seconds
        return True


@dataclass
class ChallengeGate:
    store: FailureStore
    secret: str
    after_failures: int
    window_seconds: int
    ttl_seconds: int
    cost: int

    def issue(self) -> dict[str, Any]:
        expires = datetime.now(UTC) + timedelta(seconds=self.ttl_seconds)
        challenge = altcha.create_challenge(
            ALGORITHM, self.cost, expires_at=expires, hmac_secret=self.secret
        )
        issued: dict[str, Any] = challenge.to_dict()
        return issued

    async def suspicious(self, *, email: str | None, address: str) -> bool:
        if self.after_failures <= 0:
            return False
        keys = [f"address:{address}"] + ([f"email:{email.lower()}"] if email else [])
        try:
            for key in keys:
                if await self.store.failures(key, self.window_seconds) >= self.after_failures:
                    return True
        except Exception as error:  # the shared store is away: let people in, as the limiter does
            logger.warning("challenge store unreachable: failing open", error=type(error).__name__)
        return False

    async def require(self, *, email: str | None, address: str, solution: str | None) -> None:
        """Nothing for a caller under no suspicion; else a valid, unused, unexpired solution."""
        if not await self.suspicious(email=email, address=address):
            return
        if solution is None:
            raise ChallengeRequired()
        try:
            result = altcha.verify_solution(solution, self.secret)
        except Exception as error:  # a payload that isn't one: malformed base64 or JSON
            raise ChallengeRefused("The solution could not be read") from error
        if result.error:
            raise ChallengeRefused("The solution could not be read")
        if result.expired:
            raise ChallengeRefused("The challenge expired")
        if not result.verified:
            raise ChallengeRefused("The solution does not solve the challenge")
        if not await self.store.first_use(_fingerprint(solution), self.ttl_seconds):
            raise ChallengeRefused("This solution was used already")

    async def failed(self, *, email: str, address: str) -> None:
        if self.after_failures > 0:
            keys = [f"address:{address}", f"email:{email.lower()}"]
            try:
                await self.store.count_failure(keys, self.window_seconds)
            except Exception as error:
                logger.warning("challenge store unreachable", error=type(error).__name__)


def _fingerprint(solution: str) -> str:
    """One challenge, one use: the signed challenge parameters identify it."""
    payload = altcha.Payload.from_base64(solution)
    return hashlib.sha256(str(payload.challenge.signature).encode()).hexdigest()


def challenge_gate(settings: Settings, redis: Redis | None) -> ChallengeGate:
    """Failures counted where the rate limits are: in Redis when there is one, else here."""
    store: FailureStore = (
        RedisFailureStore(redis, settings.redis_key_prefix)
        if redis is not None
        else InProcessFailureStore()
    )
    return ChallengeGate(
        store=store,
        secret=hashlib.sha256(f"taskyard challenge|{settings.signing_key}".encode()).hexdigest(),
        after_failures=settings.challenge_after_failures,
        window_seconds=settings.challenge_window_seconds,
        ttl_seconds=settings.challenge_ttl_seconds,
        cost=settings.challenge_cost,
    )
