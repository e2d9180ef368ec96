"""Small ASGI helpers shared by the middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_RESPONSE_HEADERS = "taskyard_response_headers"

# Paths answered with an endless stream (the live events): no layer may buffer, tag or
# compress the answer, and every layer it passes stays in memory for as long as it is open.
STREAM_PATHS = frozenset({"/api/v1/events"})


def is_stream(scope: Scope) -> bool:
    return scope.get("path") in STREAM_PATHS


def add_response_headers(scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
    """Headers the front layer adds to this request's response, whatever answers it: a layer
    that only has headers to add needn't wrap `send` for them."""
    scope.setdefault("state", {}).setdefault(_RESPONSE_HEADERS, []).extend(headers)


def added_response_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    added: list[tuple[bytes, bytes]] = scope.get("state", {}).get(_RESPONSE_HEADERS, [])
    return added


def on_response_start(send: Send, inspect: Callable[[Message], None]) -> Send:
    """`send`, but `inspect` sees (and may change) the response-start message first."""

    async def watched(message: Message) -> None:
        if message["type"] == "http.response.start":
            inspect(message)
        await send(message)

    return watched


class HttpMiddleware:
    """Pure ASGI middleware for HTTP requests; anything else (lifespan, websockets) and any
    request it does not apply to passes straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def applies_to(self, scope: Scope) -> bool:
        return True

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: it hands back the next layer's (or its own handling's) awaitable,
        # so a request passing by keeps no frame of this layer alive while it runs; an open
        # event stream would hold one for hours.
        if scope["type"] != "http" or not self.applies_to(scope):
            return self.app(scope, receive, send)
        return self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
