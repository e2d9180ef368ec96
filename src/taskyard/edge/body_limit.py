"""Refuse request bodies over the limit with a 413, whether declared up front or streamed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskyard.edge.asgi import HttpMiddleware
from taskyard.errors import error_response

TOO_LARGE = "Request body too large"
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


class BodySizeLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    def applies_to(self, scope: Scope) -> bool:
        """Requests that may carry a body: a GET or HEAD without a declared one has none."""
        if scope["method"] not in {"GET", "HEAD"}:
            return True
        return any(name in _BODY_HEADERS for name, _ in scope.get("headers", ()))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = self._declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await error_response(Request(scope), 413, TOO_LARGE)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside body parsing, it reaches the error handler as a 413.
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counting_receive, send)

    @staticmethod
    def _declared_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None
