"""HTTP details the routes shouldn't each repeat: HEAD answered as GET without a body, and
caching rules for responses meant for one person."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from taskyard.edge.asgi import HttpMiddleware

# Responses that carry tokens: kept by no cache at all, not even the browser's.
TOKEN_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"})
PRIVATE = b"private, no-cache"  # the browser may keep it, but revalidates (ETags still work)
NO_STORE = b"no-store"


class HeadAsGetMiddleware(HttpMiddleware):
    """HEAD on any GET route: the GET's status and headers (Content-Length, ETag) with no body.

    It sits outside the ETag and compression layers, so the headers describe the body a GET
    would have carried.
    """

    def applies_to(self, scope: Scope) -> bool:
        return bool(scope["method"] == "HEAD")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _has_authorization(scope: Scope) -> bool:
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))


def cache_policy(scope: Scope) -> bytes | None:
    """Responses for one person never sit in a shared cache: `private, no-cache` on every
    authenticated response, and `no-store` on those that hand out tokens."""
    if scope["path"] in TOKEN_PATHS:
        return NO_STORE
    return PRIVATE if _has_authorization(scope) else None
