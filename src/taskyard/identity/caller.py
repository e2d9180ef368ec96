"""The caller, worked out once per request, right after the front layer.

The request's credentials (the access token) are verified once; then what the identity store
knows of the caller is read and, when it shows them in good standing, the `Principal` is made.
Everything after reads the result from the request scope: the rate limiter, the early cache,
the session's replica choice, idempotency and the route dependencies. A caller the store can't
vouch for is left to the route dependency, which asks the database (`Authenticator`).

With Redis, the identity read goes in one round trip with the commands other layers will need
(`RoundTripPart`: the limiter's count, the cached body), each layer keeping its own keys and
code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from taskyard.access_tokens import AccessClaims, TokenVerifier, put_claims
from taskyard.errors import AppError, Forbidden, Unauthorized
from taskyard.identity.authenticator import Authenticator
from taskyard.identity.scopes import allows
from taskyard.identity.store import IdentityStore, KnownState, Prefetched, Principal
from taskyard.redis_client import (
    BackendGuard,
    Command,
    KeySpace,
    RoundTripPart,
    TrackedRedis,
    send_at_once,
)

_CALLER = "taskyard_caller"


class OutOfScope(Forbidden):
    message = "This API token's scopes don't allow this request"


@dataclass(slots=True)
class Caller:
    """Who sent the request, as far as the token and the identity store tell."""

    claims: AccessClaims | None  # None: no token, or not a good one
    refusal: AppError | None = None  # why the token is not good
    known: KnownState | None = None  # what the store knows (None: not asked, or away)
    principal: Principal | None = None  # set when the store alone vouches for the caller

    def require_claims(self) -> AccessClaims:
        """The claims, or the 401 that says why there are none (missing, invalid, expired)."""
        if self.claims is not None:
            return self.claims
        raise self.refusal or Unauthorized("Not authorized, no token")


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


def caller_of(scope: Scope) -> Caller:
    caller: Caller | None = scope.get("state", {}).get(_CALLER)
    if caller is None:  # a wiring mistake, never a request's
        raise RuntimeError("the caller layer did not run for this request")
    return caller


class RoundTrip:
    """Sends the identity read and every part's commands at once (not a transaction: the parts
    are independent), and hands each part its replies."""

    def __init__(
        self,
        redis: TrackedRedis,
        keys: KeySpace,
        guard: BackendGuard,
        parts: Sequence[RoundTripPart],
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.guard = guard
        self.parts = parts

    async def read(
        self, scope: Scope, claims: AccessClaims, identity: IdentityStore
    ) -> Prefetched | None:
        """The identity values (None: read them alone), having handed each part its replies."""
        prefetch = identity.prefetch(claims)
        if prefetch is None or self.guard.should_skip():
            return None
        commands: list[Command] = [("MGET", *prefetch.keys)]
        counts = [part.queue(scope, claims, commands) for part in self.parts]
        try:
            replies = await send_at_once(self.redis, commands)
        except RedisError as error:
            self.guard.record_failure("round_trip", error)
            return None
        self.guard.record_success()
        values, at = replies[0], 1
        for part, count in zip(self.parts, counts, strict=True):
            if count:
                part.keep(scope, replies[at : at + count])
                at += count
        if isinstance(values, Exception) or not self.keys.holds(prefetch.namespace):
            return None  # the server changed while the trip was on its way: read it all again
        return Prefetched.read(prefetch.namespace, values)


class CallerMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        identity: IdentityStore,
        authenticator: Authenticator,
        round_trip: RoundTrip | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.identity = identity
        self.authenticator = authenticator
        self.round_trip = round_trip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[_CALLER] = await self._caller(scope)
        await self.app(scope, receive, send)

    async def _caller(self, scope: Scope) -> Caller:
        token = bearer_token(scope)
        try:
            claims = await self.verifier.verify(token) if token else None
        except AppError as refusal:
            put_claims(scope, None)
            return Caller(None, refusal)
        put_claims(scope, claims)
        if claims is None:
            return Caller(None)
        if claims.scopes is not None and not allows(claims.scopes, scope["method"], scope["path"]):
            # Refused before anything answers, a cached view included.
            return Caller(None, OutOfScope())
        prefetched = (
            await self.round_trip.read(scope, claims, self.identity)
            if self.round_trip is not None
            else None
        )
        known = await self.identity.lookup(claims, prefetched)
        return Caller(claims, None, known, await self.authenticator.vouch(claims, known))
