"""Rate limits shared by every instance: per user when the token is valid, per IP otherwise.

Counters live in Redis when TASKYARD_REDIS_URL is set and in process otherwise. If Redis is
unreachable the limiter fails open: requests are served, the failure is counted and logged
once per interval, and readiness reports the limiter as degraded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskyard.access_tokens import AccessClaims, claims_in
from taskyard.config import Settings
from taskyard.edge.asgi import HttpMiddleware, on_response_start
from taskyard.edge.metrics import RATE_LIMIT_BACKEND_ERRORS, RATE_LIMIT_REJECTIONS
from taskyard.errors import TooManyRequests, error_response
from taskyard.redis_client import SOCKET_TIMEOUT_SECONDS, BackendGuard

# Probes, metrics and the web client's hashed files cost next to nothing to answer.
EXEMPT_PREFIXES = ("/health", "/metrics", "/assets/", "/.well-known/")
# These have budgets of their own, counted where the login, the email or the session is known.
AUTH_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"})

LimitName = Literal["user", "admin", "anonymous", "login", "login_ip", "register", "refresh"]

_STRATEGIES: dict[str, type[RateLimiter]] = {
    "moving-window": MovingWindowRateLimiter,
    "fixed-window": FixedWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_after).encode()),
        ]

    def refusal(self) -> TooManyRequests:
        headers = {name.decode(): value.decode() for name, value in self.headers()}
        headers["Retry-After"] = str(self.reset_after)
        return TooManyRequests(headers)


def _storage(settings: Settings) -> Storage:
    if not settings.redis_url:
        return MemoryStorage()
    return RedisStorage(
        f"async+{settings.redis_url}",
        implementation="redispy",
        key_prefix=f"{settings.redis_key_prefix}:limits",
        wrap_exceptions=True,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
    )


# A sliding-window counter (as the `limits` library and Cloudflare count): one counter for this
# window of time and one for the last, the last weighted by how much of it still overlaps the
# window that ends now. Constant cost and two small keys, whatever the limit. A refused request
# is not counted.
_SLIDING_WINDOW = """
local limit, period, elapsed = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local allowed = 0
if previous * (period - elapsed) / period + current + 1 <= limit then
  current = redis.call('INCR', KEYS[1])
  if current == 1 then redis.call('EXPIRE', KEYS[1], 2 * period) end
  allowed = 1
end
return {allowed, current, previous}
"""


def sliding_window_decision(
    allowed: bool, limit: int, period: int, elapsed: float, current: int, previous: int
) -> Decision:
    """What a sliding-window count means for the headers. Remaining: what the weighted count
    leaves. Reset: until everything counted now has stopped counting (the current window's hits
    weigh in until the end of the next one). Retry-After, when refused: exactly until the count
    leaves room for one more."""
    left = period - elapsed
    count = previous * left / period + current
    remaining = max(0, math.floor(limit - count))
    reset_after = left + period if current else left
    if allowed:
        return Decision(True, limit, remaining, max(1, math.ceil(reset_after)))
    if current <= limit - 1:  # this window's hits fit: wait for the last window's to fade
        wait = period * (1 - (limit - 1 - current) / previous) - elapsed
    else:  # this window is full: wait into the next, for its hits to fade enough
        wait = left + period * (1 - (limit - 1) / current)
    return Decision(False, limit, 0, max(1, math.ceil(wait)))


@dataclass(frozen=True, slots=True)
class _Count:
    """One count against a limit, as sent: enough to read its reply."""

    item: RateLimitItem
    keys: list[str]
    args: list[str | int]
    elapsed: float

    def decision(self, reply: Sequence[int]) -> Decision:
        allowed, current, previous = reply
        period = self.item.get_expiry()
        return sliding_window_decision(
            bool(allowed), self.item.amount, period, self.elapsed, int(current), int(previous)
        )


class RedisSlidingWindow:
    """The sliding-window limiter in one Lua call: sent alone, or in the request's round trip."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.script = redis.register_script(_SLIDING_WINDOW)
        self.prefix = f"{prefix}:swc"

    def count(self, item: RateLimitItem, name: str, key: str) -> _Count:
        period = item.get_expiry()
        window, elapsed = divmod(time.time(), period)
        counter = f"{self.prefix}:{name}:{item.amount}:{period}:{key}"
        return _Count(
            item,
            [f"{counter}:{int(window)}", f"{counter}:{int(window) - 1}"],
            [item.amount, period, repr(elapsed)],
            elapsed,
        )

    async def hit(self, item: RateLimitItem, name: str, key: str) -> Decision:
        count = self.count(item, name, key)
        return count.decision(await self.script(keys=count.keys, args=count.args))

    def queue(self, pipeline: Pipeline, count: _Count) -> None:
        """The count in a pipeline, by the script's digest: a server that doesn't have the
        script yet answers NOSCRIPT, and the limiter then sends it alone (which loads it)."""
        pipeline.evalsha(self.script.sha, len(count.keys), *count.keys, *count.args)


class RateLimitService:
    def __init__(self, settings: Settings, guard: BackendGuard, redis: Redis | None = None) -> None:
        self.window = (
            RedisSlidingWindow(redis, settings.redis_key_prefix)
            if redis is not None and settings.rate_limit_strategy == "sliding-window-counter"
            else None
        )
        # The `limits` library serves the rest (in process, or another strategy in Redis); with
        # the Lua window it would only hold a second, idle Redis connection pool.
        self.limiter = (
            None
            if self.window is not None
            else _STRATEGIES[settings.rate_limit_strategy](_storage(settings))
        )
        self.guard = guard
        self.items: dict[LimitName, RateLimitItem] = {
            "user": parse(settings.rate_limit),
            "anonymous": parse(settings.rate_limit),
            "admin": parse(settings.rate_limit_admin),
            "login": parse(settings.rate_limit_login),
            "login_ip": parse(settings.rate_limit_login_ip),
            "register": parse(settings.rate_limit_register),
            "refresh": parse(settings.rate_limit_refresh),
        }

    async def check(self, name: LimitName, key: str) -> Decision | None:
        """Count one request against a limit; None when the counter store is unreachable."""
        if self.guard.should_skip():
            RATE_LIMIT_BACKEND_ERRORS.inc()
            return None
        item = self.items[name]
        try:
            if self.window is not None:
                decision = await self.window.hit(item, name, key)
                self.guard.record_success()
                return decision
            assert self.limiter is not None  # built whenever there is no Lua window
            allowed = await self.limiter.hit(item, name, key)
            stats = await self.limiter.get_window_stats(item, name, key)
        except Exception as error:  # any storage failure: serve the request anyway
            RATE_LIMIT_BACKEND_ERRORS.inc()
            self.guard.record_failure("rate_limit", error)
            return None
        self.guard.record_success()
        reset_after = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, item.amount, stats.remaining, reset_after)

    async def enforce(self, name: LimitName, key: str) -> None:
        """Count one request, and refuse it (429) once the budget is spent."""
        decision = await self.check(name, key)
        if decision is not None and not decision.allowed:
            RATE_LIMIT_REJECTIONS.labels(limit=name).inc()
            raise decision.refusal()


def limited(scope: Scope) -> bool:
    """Whether the general limits count this request (the auth paths count their own)."""
    if scope["method"] == "POST" and scope["path"] in AUTH_PATHS:
        return False
    return not scope["path"].startswith(EXEMPT_PREFIXES)


def _limit_for(scope: Scope) -> tuple[LimitName, str]:
    """The limit and its key: per person with a good token, else per address."""
    claims = claims_in(scope)
    if claims is None:  # an invalid token is just an anonymous caller
        client = scope.get("client")
        return "anonymous", client[0] if client else "unknown"
    return ("admin" if claims.role == "admin" else "user"), str(claims.user_id)


_DECIDED = "taskyard_rate_limit_decision"


class RateLimitRoundTrip:
    """The limiter's count as a part of the request's one Redis round trip (`RoundTripPart`)."""

    def __init__(self, service: RateLimitService) -> None:
        self.service = service

    def queue(self, scope: Scope, claims: AccessClaims, pipeline: Pipeline) -> int:
        window = self.service.window
        if window is None or not limited(scope):
            return 0
        name, key = _limit_for(scope)
        count = window.count(self.service.items[name], name, key)
        window.queue(pipeline, count)
        scope.setdefault("state", {})[_DECIDED] = count
        return 1

    def keep(self, scope: Scope, replies: Sequence[Any]) -> None:
        state = scope["state"]
        (reply,) = replies
        if isinstance(reply, Exception):  # NOSCRIPT, most likely: the middleware counts alone
            del state[_DECIDED]
            return
        self.service.guard.record_success()
        state[_DECIDED] = state[_DECIDED].decision(reply)


class RateLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, service: RateLimitService) -> None:
        super().__init__(app)
        self.service = service

    def applies_to(self, scope: Scope) -> bool:
        return limited(scope)

    async def _decide(self, scope: Scope, name: LimitName, key: str) -> Decision | None:
        decided = scope.get("state", {}).get(_DECIDED)
        if isinstance(decided, Decision):  # counted in the request's round trip
            return decided
        return await self.service.check(name, key)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        name, key = _limit_for(scope)
        decision = await self._decide(scope, name, key)
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            RATE_LIMIT_REJECTIONS.labels(limit=name).inc()
            refusal = decision.refusal()
            response = error_response(
                Request(scope), refusal.status_code, refusal.message, headers=refusal.headers
            )
            await response(scope, receive, send)
            return

        def add_headers(message: Message) -> None:
            message["headers"] = [*message.get("headers", ()), *decision.headers()]

        await self.app(scope, receive, on_response_start(send, add_headers))
