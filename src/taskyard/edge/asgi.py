"""Small ASGI helpers shared by the middleware."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies_to(scope):
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
