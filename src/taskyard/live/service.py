"""Live events: recorded beside each write (`LiveFeed`), and sent down each open stream
(`EventStream`)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack

from sse_starlette import ServerSentEvent

from taskyard.access_tokens import AccessClaims
from taskyard.db import utc_now
from taskyard.errors import AppError
from taskyard.jobs.service import EventPublisher
from taskyard.live.bus import CatchUp, EventId, parse_event_id
from taskyard.live.events import (
    RESYNC,
    BusEntry,
    EventDraft,
    LiveEventType,
    outbox_payload,
)
from taskyard.live.hub import LiveHub, Subscription
from taskyard.live.repository import LiveRepository
from taskyard.schemas import format_timestamp

if TYPE_CHECKING:
    from taskyard.services import Services


class EventDetails(TypedDict, total=False):
    """What a live event says beside its type: `data` is the resource exactly as the API
    returns it; `concerns` names the people whose access to the project this change grants or
    takes away."""

    project_id: Required[uuid.UUID]
    actor_id: Required[uuid.UUID]
    data: Required[Any]
    task_id: uuid.UUID | None
    concerns: frozenset[uuid.UUID]


class LiveFeed:
    def __init__(self, events: EventPublisher) -> None:
        self.events = events

    def draft(self, event_type: LiveEventType, **details: Unpack[EventDetails]) -> EventDraft:
        """The event a write makes, not yet written."""
        now = utc_now()
        project_id = details["project_id"]
        payload = outbox_payload(
            event_type,
            project_id=project_id,
            task_id=details.get("task_id"),
            actor_id=details["actor_id"],
            at=format_timestamp(now),
            data=details["data"],
            concerns=details.get("concerns", frozenset()),
        )
        return EventDraft(event_type, project_id, now, payload)

    async def emit(self, event_type: LiveEventType, **details: Unpack[EventDetails]) -> None:
        """Record the event in the write's transaction: it goes out only if the write commits."""
        await self.record(self.draft(event_type, **details))

    async def record(self, event: EventDraft) -> None:
        """Write a drafted event in the write's transaction."""
        # Webhooks only hear of it through the worker when one of the project's wants it: the
        # write checks, so an event never goes through the relay for nobody.
        written = await LiveRepository(self.events.session).write(event)
        self.written(written)

    def written(self, outbox_types: list[str]) -> None:
        """What a statement wrote for events drafted here: their relays wake at commit."""
        self.events.written(outbox_types)


class SignedIn:
    """Whether a stream's caller is still signed in: logged out, deactivated, a revoked token
    or one past its expiry end the stream. Asked at each heartbeat, as a request would ask."""

    def __init__(self, services: Services, claims: AccessClaims) -> None:
        self.services = services
        self.claims = claims

    async def still(self) -> bool:
        if self.claims.expires_at <= utc_now():
            return False
        services = self.services
        try:
            known = await services.identity.lookup(self.claims)
            if await services.authenticator.vouch(self.claims, known) is not None:
                return True
            async with services.database.session(write=False) as session:
                await services.authenticator.authenticate(
                    self.claims, services.account_states(session), known
                )
        except AppError:
            return False
        return True


class EventStream:
    """One open stream: what it missed first (if it said where it left off), then each event
    as it comes, each checked against the person's projects as it is sent; a comment line at
    each heartbeat, which also checks the caller is still signed in."""

    def __init__(
        self,
        hub: LiveHub,
        subscription: Subscription,
        signed_in: SignedIn,
        *,
        heartbeat_seconds: float,
    ) -> None:
        self.hub = hub
        self.subscription = subscription
        self.signed_in = signed_in
        self.heartbeat_seconds = heartbeat_seconds

    async def events(self, catch_up: CatchUp | None) -> AsyncIterator[ServerSentEvent]:
        subscription = self.subscription
        sent_up_to: EventId = (0, 0)
        try:
            if catch_up is not None:
                if not catch_up.complete:
                    yield _resync()
                for event_id, entry in catch_up.entries:
                    sent_up_to = parse_event_id(event_id) or sent_up_to
                    if subscription.may_see(entry):
                        yield _event(event_id, entry)
            loop = asyncio.get_running_loop()
            # The first check comes at a random point of the first interval: streams opened
            # together (an instance's restart, a reconnect storm) don't all check at once.
            next_check = loop.time() + self.heartbeat_seconds * random.uniform(0.5, 1.0)  # noqa: S311
            while True:
                if loop.time() >= next_check:  # due, however busy the stream is
                    if not await self.signed_in.still():
                        return
                    next_check = loop.time() + self.heartbeat_seconds
                    yield ServerSentEvent(comment="keep-alive")
                if subscription.overflowed:
                    subscription.overflowed = False
                    subscription.waiting.clear()
                    yield _resync()
                try:
                    async with asyncio.timeout_at(next_check):
                        arrived = await subscription.take()
                except TimeoutError:
                    continue
                for event_id, entry in arrived:
                    position = parse_event_id(event_id)
                    if position is None or position <= sent_up_to:
                        continue  # already sent while catching up
                    if subscription.may_see(entry):
                        yield _event(event_id, entry)
        finally:
            self.hub.close(subscription)


def _event(event_id: str, entry: BusEntry) -> ServerSentEvent:
    return ServerSentEvent(data=entry.wire, event=entry.type, id=event_id)


def _resync() -> ServerSentEvent:
    return ServerSentEvent(data=RESYNC_DATA, event=RESYNC)


RESYNC_DATA = '{"type":"resync"}'  # `Resync`
