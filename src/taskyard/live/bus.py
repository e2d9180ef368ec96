"""The live bus: every live event, in one order, kept for a while so a stream can catch up.

With Redis it is one Redis stream (`XADD` trimmed by age, `XREAD` by every instance), so a
write on any instance reaches the streams of every other, and an event's id is its place in
that stream (what `Last-Event-ID` names). Without Redis, one process keeps it in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from taskyard.jobs.broker import EventMessage
from taskyard.live.events import BusEntry

# How many events a reconnecting stream may be sent to catch up; more, and it is told to resync.
CATCH_UP_LIMIT = 5_000
READ_BATCH = 500

EventId = tuple[int, int]
Positioned = tuple[str, BusEntry]


def parse_event_id(text: str | None) -> EventId | None:
    """An event id (`<ms>-<seq>`) as a comparable pair; None when it isn't one."""
    if not text:
        return None
    ms, dash, seq = text.strip().partition("-")
    if not (ms.isdigit() and (not dash or seq.isdigit())) or len(ms) > 15 or len(seq) > 15:
        return None
    return int(ms), int(seq or 0)


def format_event_id(event_id: EventId) -> str:
    return f"{event_id[0]}-{event_id[1]}"


@dataclass(frozen=True, slots=True)
class CatchUp:
    entries: Sequence[Positioned]
    complete: bool  # False: some of what came after is no longer kept (or too much): resync


class LiveBus(Protocol):
    async def publish(self, entry: BusEntry) -> str: ...

    async def publish_all(self, entries: Sequence[BusEntry]) -> None:
        """In order, in one round trip."""
        ...

    async def read(self, after: str, block_seconds: float) -> Sequence[Positioned]:
        """Events after `after`, waiting up to `block_seconds` for one."""
        ...

    async def position(self) -> str:
        """The id of the newest event ("0-0": none yet)."""
        ...

    async def since(self, after: EventId) -> CatchUp: ...

    async def aclose(self) -> None: ...


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _positioned(reply: Any) -> Positioned:
    event_id, fields = reply
    return _text(event_id), BusEntry.from_fields({_text(k): _text(v) for k, v in fields.items()})


class RedisLiveBus:
    def __init__(
        self, redis: Redis, redis_url: str, *, key: str, replay_seconds: int, block_margin: float
    ) -> None:
        self.redis = redis  # the process's pool: short commands
        self.redis_url = redis_url
        self.key = key
        self.replay_ms = replay_seconds * 1000
        self.block_margin = block_margin
        self._reader: Redis | None = None  # its own connection: XREAD blocks

    @property
    def _since_key(self) -> str:
        return f"{self.key}:since"

    async def publish(self, entry: BusEntry) -> str:
        return (await self._add([entry]))[0]

    async def publish_all(self, entries: Sequence[BusEntry]) -> None:
        await self._add(entries)

    async def _add(self, entries: Sequence[BusEntry]) -> list[str]:
        now = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            # Where this server's copy of the bus begins: a Redis that lost it (a restart with
            # nothing on disk) begins anew, and older ids are then told to resync.
            pipe.set(self._since_key, now, nx=True)
            for entry in entries:
                pipe.xadd(self.key, entry.fields(), minid=now - self.replay_ms, approximate=True)  # type: ignore[arg-type]
            replies = await pipe.execute()
        return [_text(event_id) for event_id in replies[1:]]

    def _reading_client(self, block_seconds: float) -> Redis:
        if self._reader is None:
            self._reader = Redis.from_url(
                self.redis_url,
                socket_timeout=block_seconds + self.block_margin,
                socket_connect_timeout=5,
                single_connection_client=True,
            )
        return self._reader

    async def read(self, after: str, block_seconds: float) -> Sequence[Positioned]:
        reader = self._reading_client(block_seconds)
        replies: Any = await reader.xread(
            {self.key: after}, count=READ_BATCH, block=int(block_seconds * 1000)
        )
        return [_positioned(entry) for _stream, entries in replies or () for entry in entries]

    async def _info(self) -> dict[str, Any] | None:
        try:
            info = await self.redis.xinfo_stream(self.key)
        except ResponseError:  # no such key: nothing was ever published (or Redis was reset)
            return None
        return {_text(key): value for key, value in info.items()}

    async def position(self) -> str:
        info = await self._info()
        return "0-0" if info is None else _text(info["last-generated-id"])

    async def since(self, after: EventId) -> CatchUp:
        info = await self._info()
        begun = await self.redis.get(self._since_key)
        if info is None or begun is None:
            return CatchUp((), complete=False)
        newest = parse_event_id(_text(info["last-generated-id"])) or (0, 0)
        trimmed_up_to = parse_event_id(_text(info.get("max-deleted-entry-id", "0-0"))) or (0, 0)
        if after > newest or after < trimmed_up_to or after[0] < int(_text(begun)):
            # An id this stream never gave (Redis was reset), or events after it were trimmed.
            return CatchUp((), complete=False)
        entries: Any = await self.redis.xrange(
            self.key, min=f"({format_event_id(after)}", count=CATCH_UP_LIMIT + 1
        )
        caught_up = [_positioned(entry) for entry in entries]
        if len(caught_up) > CATCH_UP_LIMIT:
            return CatchUp((), complete=False)
        return CatchUp(caught_up, complete=True)

    async def aclose(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader.aclose()
            self._reader = None


class InProcessLiveBus:
    """The embedded default: one process, so the bus is a list in memory, trimmed by age."""

    def __init__(self, *, replay_seconds: int) -> None:
        self.replay_ms = replay_seconds * 1000
        self._entries: deque[tuple[EventId, BusEntry]] = deque()
        self._newest: EventId = (0, 0)
        self._trimmed_up_to: EventId = (0, 0)
        self._begun = int(time.time() * 1000)  # ids from before this process are not known here
        self._published = asyncio.Event()

    def _next_id(self) -> EventId:
        now = int(time.time() * 1000)
        ms, seq = self._newest
        return (now, 0) if now > ms else (ms, seq + 1)

    async def publish(self, entry: BusEntry) -> str:
        event_id = self._newest = self._next_id()
        self._entries.append((event_id, entry))
        oldest_kept = event_id[0] - self.replay_ms
        while self._entries and self._entries[0][0][0] < oldest_kept:
            self._trimmed_up_to = self._entries.popleft()[0]
        self._published.set()
        self._published = asyncio.Event()
        return format_event_id(event_id)

    async def publish_all(self, entries: Sequence[BusEntry]) -> None:
        for entry in entries:
            await self.publish(entry)

    def _after(self, after: EventId) -> list[Positioned]:
        found: list[Positioned] = []
        for event_id, entry in reversed(self._entries):  # readers are near the newest end
            if event_id <= after:
                break
            found.append((format_event_id(event_id), entry))
        found.reverse()
        return found

    async def read(self, after: str, block_seconds: float) -> Sequence[Positioned]:
        start = parse_event_id(after) or (0, 0)
        waiting = self._published
        found = self._after(start)
        if not found:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting.wait(), timeout=block_seconds)
            found = self._after(start)
        return found[:READ_BATCH]

    async def position(self) -> str:
        return format_event_id(self._newest)

    async def since(self, after: EventId) -> CatchUp:
        if after > self._newest or after < self._trimmed_up_to or after[0] < self._begun:
            return CatchUp((), complete=False)
        found = self._after(after)
        if len(found) > CATCH_UP_LIMIT:
            return CatchUp((), complete=False)
        return CatchUp(found, complete=True)

    async def aclose(self) -> None:
        return None


class BusDelivery:
    """The live relay's delivery: each claimed batch of live events onto the bus, in order,
    which every instance's streams read. Marked published only once it is on it (at least once:
    a retried batch may put an event there twice)."""

    def __init__(self, bus: LiveBus) -> None:
        self.bus = bus

    async def __call__(self, event: EventMessage) -> str:
        return await self.bus.publish(BusEntry.from_outbox(event.payload))

    async def all(self, events: list[EventMessage]) -> None:
        await self.bus.publish_all([BusEntry.from_outbox(event.payload) for event in events])
