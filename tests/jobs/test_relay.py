"""A commit wakes the relay that carries its events, and only that one: a relay woken for
nothing costs a claim that finds nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from taskyard.db import commit
from taskyard.jobs.models import OutboxEvent
from taskyard.jobs.repository import OutboxRepository
from taskyard.jobs.service import EventPublisher
from taskyard.live.events import LIVE_EVENT
from taskyard.users.events import USER_REGISTERED
from tests.helpers import bearer, register


async def test_each_relay_carries_its_own_event_types(app: Any) -> None:
    services = app.state.services
    assert services.live.relay.carries(LIVE_EVENT)
    assert not services.live.relay.carries(USER_REGISTERED)
    assert services.relay.carries(USER_REGISTERED)
    assert not services.relay.carries(LIVE_EVENT)


async def test_a_live_event_wakes_the_live_relay_alone(app: Any) -> None:
    services = app.state.services  # no lifespan here: no relay runs to take the wake
    await services.wake_relays(LIVE_EVENT)
    assert services.live.relay.awake
    assert not services.relay.awake
    await services.wake_relays(USER_REGISTERED)
    assert services.relay.awake


async def test_a_commit_hands_on_each_event_type_it_emitted(app: Any) -> None:
    woken: list[str] = []

    async def wake(event_type: str) -> None:
        woken.append(event_type)

    async with app.state.services.database.session(write=True) as session:
        events = EventPublisher(session, wake)
        events.emit(LIVE_EVENT, {"n": 1})
        events.emit(USER_REGISTERED, {"user_id": "someone"})
        assert woken == []  # nothing before the commit
        await commit(session)
    assert woken == [LIVE_EVENT, USER_REGISTERED]


async def test_events_handed_on_leave_the_outbox(app: Any, client: Any) -> None:
    """The outbox holds only what is still to go, however many events went through it."""
    auth = await register(client)
    for n in range(3):
        created = await client.post(
            "/api/v1/tasks", json={"title": f"Task {n}"}, headers=bearer(auth)
        )
        assert created.status_code == 201
    services = app.state.services
    async with services.database.session(write=False) as session:
        assert await OutboxRepository(session).pending_count() == 4  # a welcome, three live
    assert await services.live.relay.drain_once() == 3
    assert await services.relay.drain_once() == 1
    async with services.database.session(write=False) as session:
        left = (await session.scalars(select(OutboxEvent.id))).all()
    assert left == []
