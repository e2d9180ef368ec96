"""A small ASGI helper shared by the middleware that looks at, or adds to, response headers."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Send


def on_response_start(send: Send, inspect: Callable[[Message], None]) -> Send:
    """`send`, but `inspect` sees (and may change) the response-start message first."""

    async def watched(message: Message) -> None:
        if message["type"] == "http.response.start":
            inspect(message)
        await send(message)

    return watched
