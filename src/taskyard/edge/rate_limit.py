"""Rate limits shared by every instance: per user when the token is valid, per IP otherwise.

Counters live in Redis when TASKYARD_REDIS_URL is set and in process otherwise. If Redis is
unreachable the limiter fails open: requests are served, the failure is counted and logged
once per interval, and readiness reports the limiter as degraded.
"""

from __future__ import annotations

import contextlib
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
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from taskyard.access_tokens import AccessClaims, claims_in
from taskyard.config import Settings
from taskyard.edge.asgi import HttpMiddleware, add_response_headers
from taskyard.edge.metrics import RATE_LIMIT_BACKEND_ERRORS, RATE_LIMIT_REJECTIONS
from taskyard.errors import TooManyRequests, error_response
from taskyard.redis_client import SOCKET_TIMEOUT_SECONDS, BackendGuard, Command, send_at_once

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
    """One request counted against a limit: its window's counter, the last window's, and how
    far into this window it came."""

    item: RateLimitItem
    current_key: str
    previous_key: str
    elapsed: float

    def decision(self, counted: int, previous: int) -> Decision:
        """What the counters say, this request counted in `counted`. Refused, it is counted
        back out (`RedisSlidingWindow.uncount`), and the headers say so already."""
        limit, period = self.item.amount, self.item.get_expiry()
        allowed = previous * (period - self.elapsed) / period + counted <= limit
        current = counted if allowed else counted - 1
        return sliding_window_decision(allowed, limit, period, self.elapsed, current, previous)


class RedisSlidingWindow:
    """A sliding-window counter (as the `limits` library and Cloudflare count): a counter for
    this window of time and one for the last, the last weighted by how much of it still
    overlaps the window that ends now. Constant cost and two small keys a caller, whatever the
    limit.

    Plain commands, no script (a Lua call costs Redis more than the rest of a cache hit put
    together): the counter is made with its expiry if absent and counted, and the last one
    read, sent alone or in the request's round trip. A refused request is counted back out,
    so refusals don't count (two requests racing at the very limit may then both be refused,
    where one of them would have fit)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:swc"
        # Per limit, its counters' prefix, made once: every request needs it.
        self._prefixes: dict[tuple[str, int, int], str] = {}

    def count(self, item: RateLimitItem, name: str, key: str) -> _Count:
        period = item.get_expiry()
        prefix = self._prefixes.get((name, item.amount, period))
        if prefix is None:
            prefix = f"{self.prefix}:{name}:{item.amount}:{period}:"
            self._prefixes[(name, item.amount, period)] = prefix
        window, elapsed = divmod(time.time(), period)
        current = int(window)
        return _Count(item, f"{prefix}{key}:{current}", f"{prefix}{key}:{current - 1}", elapsed)

    def queue(self, commands: list[Command], count: _Count) -> int:
        """The count's three commands; `decide` reads their replies."""
        expiry = 2 * count.item.get_expiry()  # it weighs in until the next window ends
        commands.append(("SET", count.current_key, 0, "EX", expiry, "NX"))
        commands.append(("INCR", count.current_key))
        commands.append(("GET", count.previous_key))
        return 3

    @staticmethod
    def decide(count: _Count, replies: Sequence[Any]) -> Decision:
        _made, counted, previous = replies
        return count.decision(int(counted), int(previous or 0))

    async def hit(self, item: RateLimitItem, name: str, key: str) -> Decision:
        count = self.count(item, name, key)
        commands: list[Command] = []
        self.queue(commands, count)
        replies = await send_at_once(self.redis, commands)
        if any(isinstance(reply, Exception) for reply in replies):
            raise next(reply for reply in replies if isinstance(reply, Exception))
        decision = self.decide(count, replies)
        if not decision.allowed:
            await self.uncount(count)
        return decision

    async def uncount(self, count: _Count) -> None:
        await self.redis.decr(count.current_key)


class RateLimitService:
    def __init__(self, settings: Settings, guard: BackendGuard, redis: Redis | None = None) -> None:
        self.window = (
            RedisSlidingWindow(redis, settings.redis_key_prefix)
            if redis is not None and settings.rate_limit_strategy == "sliding-window-counter"
            else None
        )
        # The `limits` library serves the rest (in process, or another strategy in Redis); with
        # the window in Redis it would only hold a second, idle Redis connection pool.
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
            assert self.limiter is not None  # built whenever there is no window in Redis
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
    if claims.scopes is not None:  # a personal API token: its own count, at a person's limit
        return "user", f"token:{claims.session_id}"
    return ("admin" if claims.role == "admin" else "user"), str(claims.user_id)


_DECIDED = "taskyard_rate_limit_decision"


@dataclass(slots=True)
class _Counted:
    name: LimitName
    count: _Count
    decision: Decision | None = None  # None until the replies are read


class RateLimitRoundTrip:
    """The limiter's count as a part of the request's one Redis round trip (`RoundTripPart`)."""

    def __init__(self, service: RateLimitService) -> None:
        self.service = service

    def queue(self, scope: Scope, claims: AccessClaims, commands: list[Command]) -> int:
        window = self.service.window
        if window is None or not limited(scope):
            return 0
        name, key = _limit_for(scope)
        count = window.count(self.service.items[name], name, key)
        scope.setdefault("state", {})[_DECIDED] = _Counted(name, count)
        return window.queue(commands, count)

    def keep(self, scope: Scope, replies: Sequence[Any]) -> None:
        counted: _Counted = scope["state"][_DECIDED]
        if any(isinstance(reply, Exception) for reply in replies):
            del scope["state"][_DECIDED]  # the middleware counts on its own
            return
        self.service.guard.record_success()
        counted.decision = RedisSlidingWindow.decide(counted.count, replies)


class RateLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, service: RateLimitService) -> None:
        super().__init__(app)
        self.service = service

    def applies_to(self, scope: Scope) -> bool:
        return limited(scope)

    async def _decide(self, scope: Scope) -> tuple[LimitName, Decision | None]:
        counted: _Counted | None = scope.get("state", {}).get(_DECIDED)
        if counted is None or counted.decision is None:
            name, key = _limit_for(scope)
            return name, await self.service.check(name, key)
        # Counted in the request's round trip; a refusal is counted back out.
        if not counted.decision.allowed and self.service.window is not None:
            with contextlib.suppress(RedisError):
                await self.service.window.uncount(counted.count)
        return counted.name, counted.decision

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        name, decision = await self._decide(scope)
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
        add_response_headers(scope, decision.headers())
        await self.app(scope, receive, send)
