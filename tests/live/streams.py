"""A test's end of an event stream: real HTTP, read line by line as the spec frames it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class StreamEvent:
    event: str
    data: str
    id: str | None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class OpenStream:
    response: httpx.Response
    comments: list[str] = field(default_factory=list)
    # Events as they are read (None: the stream ended): waiting on it with a timeout leaves
    # the reading itself alone.
    events: asyncio.Queue[StreamEvent | None] = field(default_factory=asyncio.Queue)
    ended: bool = False

    async def read(self) -> None:
        event, event_id = "message", None
        data: list[str] = []
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if data:
                        await self.events.put(StreamEvent(event, "\n".join(data), event_id))
                    event, data, event_id = "message", [], None
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    self.comments.append(value)
                elif name == "event":
                    event = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    event_id = value
        except httpx.HTTPError:
            pass
        await self.events.put(None)

    async def next_event(self, within: float = 10) -> StreamEvent:
        """The next event (comments are kept aside); TimeoutError if none comes in time."""
        if self.ended:
            raise EOFError("the stream ended")
        async with asyncio.timeout(within):
            got = await self.events.get()
        if got is None:
            self.ended = True
            raise EOFError("the stream ended")
        return got

    async def event_of(self, event_type: str, within: float = 10) -> StreamEvent:
        """The next event, which must be of this type."""
        got = await self.next_event(within)
        assert got.event == event_type, f"expected {event_type}, got {got.event}: {got.data}"
        return got

    async def ends(self, within: float) -> bool:
        """Whether the stream ends within `within` seconds; an event meanwhile is a failure."""
        try:
            got = await self.next_event(within)
        except EOFError:
            return True
        except TimeoutError:
            return False
        raise AssertionError(f"unexpected event {got.event}: {got.data}")


@asynccontextmanager
async def open_stream(
    base_url: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> AsyncIterator[OpenStream]:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", "/api/v1/events", headers=headers, params=params) as response,
    ):
        if response.status_code != 200:
            await response.aread()
            yield OpenStream(response)
            return
        stream = OpenStream(response)
        reading = asyncio.create_task(stream.read())
        try:
            yield stream
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
