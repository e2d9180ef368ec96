"""A real HTTP receiver for webhook deliveries, served by uvicorn in the test's event loop: it
answers each request as its script says, and keeps what it was sent."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from tests.helpers import serving

HANG = -1  # answer nothing, for as long as the sender waits


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers the n-th request with `script[n]` (then `otherwise`): a status, or HANG."""

    script: list[int] = field(default_factory=list)
    otherwise: int = 204
    received: list[Received] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    url: str = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        number = len(self.received)
        self.received.append(Received(headers, body, time.monotonic()))
        status = self.script[number] if number < len(self.script) else self.otherwise
        if status == HANG:
            await asyncio.sleep(3600)
        extra = [(name.encode(), value.encode()) for name, value in self.headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": b"ok"})

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    async with serving(receiver) as base_url:
        receiver.url = f"{base_url}/hooks"
        yield receiver
