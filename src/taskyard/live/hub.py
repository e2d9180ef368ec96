"""One instance's end of the live bus: reads it once, and hands each event to the streams of
the people who may see it.

Who may see an event is decided at delivery, from each person's projects as they are now: an
event that changes someone's access (`BusEntry.concerns`) first has that person's projects read
again, before anything after it is delivered, so a removed member hears of their removal and
then nothing more of the project.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from taskyard.live.bus import LiveBus
from taskyard.live.events import BusEntry
from taskyard.logging import get_logger

logger = get_logger("taskyard.live")

# person id -> the ids of the projects they are in, for the people asked about
LoadProjects = Callable[[set[str]], Awaitable[dict[str, frozenset[str]]]]

QUEUE_SIZE = 1_000  # events a slow stream may fall behind by before it is told to resync
READ_BLOCK_SECONDS = 5.0


class Subscription:
    """One open stream's waiting events. `overflowed`: it fell too far behind and lost some.

    A list and one future rather than an `asyncio.Queue`: thousands of streams stay open on an
    instance, and a queue's three deques would be a twentieth of each one's memory."""

    __slots__ = ("_wakeup", "overflowed", "person", "waiting")

    def __init__(self, person: _Person) -> None:
        self.person = person
        self.waiting: list[tuple[str, BusEntry]] = []
        self.overflowed = False
        self._wakeup: asyncio.Future[None] | None = None

    @property
    def user_id(self) -> str:
        return self.person.user_id

    def offer(self, event_id: str, entry: BusEntry) -> None:
        if len(self.waiting) >= QUEUE_SIZE:
            self.overflowed = True
            return
        self.waiting.append((event_id, entry))
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def take(self) -> list[tuple[str, BusEntry]]:
        """Every event waiting, once there is one."""
        while not self.waiting:
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        taken, self.waiting = self.waiting, []
        return taken

    def may_see(self, entry: BusEntry) -> bool:
        """The membership check, made as the event is sent."""
        projects = self.person.projects
        if projects is None:
            return False
        return entry.project_id in projects or self.user_id in entry.concerns


@dataclass(eq=False)
class _Person:
    user_id: str
    projects: frozenset[str] | None = None  # None: not read yet
    generation: int = 0  # one more at each read: only the newest read is kept
    streams: set[Subscription] = field(default_factory=set)


class LiveHub:
    def __init__(self, bus: LiveBus, load_projects: LoadProjects) -> None:
        self.bus = bus
        self.load_projects = load_projects
        self._people: dict[str, _Person] = {}
        self._by_project: dict[str, set[_Person]] = {}
        self._unread: set[_Person] = set()  # people whose projects are being read: sent all
        self.position = "$"  # the last event handed out (`$`: none yet)
        self.delivered = 0

    @property
    def open_streams(self) -> int:
        return sum(len(person.streams) for person in self._people.values())

    async def open(self, user_id: str) -> Subscription:
        """A stream's queue; it gets every event from now on, once the person's projects
        are read (events that come meanwhile wait in it, and are checked as they are sent)."""
        person = self._people.get(user_id)
        if person is None:
            person = self._people[user_id] = _Person(user_id)
        subscription = Subscription(person)
        person.streams.add(subscription)
        if person.projects is None:
            self._unread.add(person)
            try:
                await self._read_projects([person])
            except BaseException:
                self.close(subscription)
                raise
        return subscription

    def close(self, subscription: Subscription) -> None:
        person = subscription.person
        person.streams.discard(subscription)
        if person.streams:
            return
        self._people.pop(person.user_id, None)
        self._unread.discard(person)
        self._index(person, frozenset())

    async def _read_projects(self, people: list[_Person]) -> None:
        started = {}
        for person in people:
            person.generation += 1
            started[person.user_id] = person.generation
        loaded = await self.load_projects(set(started))
        for person in people:
            if person.generation != started[person.user_id]:
                continue  # a newer read is on its way and will be kept instead
            if self._people.get(person.user_id) is not person:
                continue  # every stream of theirs closed meanwhile
            self._index(person, loaded.get(person.user_id, frozenset()))
            self._unread.discard(person)

    def _index(self, person: _Person, projects: frozenset[str]) -> None:
        for project_id in (person.projects or frozenset()) - projects:
            members = self._by_project.get(project_id)
            if members is not None:
                members.discard(person)
                if not members:
                    del self._by_project[project_id]
        for project_id in projects - (person.projects or frozenset()):
            self._by_project.setdefault(project_id, set()).add(person)
        person.projects = projects if person.streams else None

    async def dispatch(self, event_id: str, entry: BusEntry) -> None:
        concerned = [self._people[user] for user in entry.concerns if user in self._people]
        if concerned:
            await self._read_projects(concerned)
        recipients: Iterable[_Person] = self._by_project.get(entry.project_id, set()).union(
            self._unread, concerned
        )
        for person in recipients:
            for subscription in person.streams:
                subscription.offer(event_id, entry)
                self.delivered += 1
        self.position = event_id

    async def run_forever(self) -> None:
        """Read the bus from its newest event on, and dispatch each in order."""
        while True:
            try:
                if self.position == "$":
                    self.position = await self.bus.position()
                entries = await self.bus.read(self.position, READ_BLOCK_SECONDS)
                for event_id, entry in entries:
                    await self.dispatch(event_id, entry)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis or the database away: try again shortly; streams learn what they
                # missed by resync once they reconnect with their last id.
                logger.warning("live bus read failed; retrying", exc_info=True)
                await asyncio.sleep(1)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.bus.aclose()
