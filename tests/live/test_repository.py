"""A live event's outbox rows: the webhooks' copy is written only when an active webhook of the
project lists the event's type, exactly, by the same statement."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from taskyard.db import Database, utc_now
from taskyard.jobs.models import OutboxEvent
from taskyard.live.events import LIVE_EVENT, LIVE_OUTBOUND, EventDraft, LiveEventType
from taskyard.live.repository import LiveRepository
from taskyard.webhooks.models import Webhook
from tests.helpers import register


async def _hook(database: Database, project_id: uuid.UUID, events: str, *, active: bool) -> None:
    async with database.session(write=True) as session:
        session.add(
            Webhook(
                project_id=project_id,
                url="http://127.0.0.1:9/hook",
                events=events,
                secret="whsec_test",
                active=active,
            )
        )
        await session.commit()


async def _write(database: Database, project_id: uuid.UUID, event: LiveEventType) -> list[str]:
    payload = {"type": event.value, "projectId": str(project_id), "data": {"title": "Café"}}
    async with database.session(write=True) as session:
        written = await LiveRepository(session).write(
            EventDraft(event, project_id, utc_now(), payload)
        )
        await session.commit()
    return written


async def test_the_webhooks_copy_goes_only_where_an_active_webhook_lists_the_type(
    app: Any, client: Any
) -> None:
    database: Database = app.state.services.database
    listening = uuid.UUID((await register(client))["user"]["id"])  # their personal project
    elsewhere = uuid.UUID((await register(client))["user"]["id"])
    await _hook(database, listening, "task.created,project.member_added", active=True)
    await _hook(database, listening, "task.deleted", active=False)
    # Stored as text: `_` in a type must not match any character.
    await _hook(database, listening, "project.memberXremoved", active=True)
    await _hook(database, elsewhere, "task.updated", active=True)

    assert sorted(await _write(database, listening, LiveEventType.TASK_CREATED)) == [
        LIVE_EVENT,
        LIVE_OUTBOUND,
    ]
    assert sorted(await _write(database, listening, LiveEventType.PROJECT_MEMBER_ADDED)) == [
        LIVE_EVENT,
        LIVE_OUTBOUND,
    ]
    for quiet in (
        LiveEventType.TASK_UPDATED,  # another project's webhook wants it
        LiveEventType.TASK_DELETED,  # an inactive webhook wants it
        LiveEventType.PROJECT_MEMBER_REMOVED,  # only something like it is listed
        LiveEventType.TASK_MOVED,
    ):
        assert await _write(database, listening, quiet) == [LIVE_EVENT], quiet

    async with database.session(write=False) as session:
        live = OutboxEvent.type.in_([LIVE_EVENT, LIVE_OUTBOUND])
        rows = (
            await session.execute(select(OutboxEvent.type, OutboxEvent.payload).where(live))
        ).all()
    outbound = sorted(payload["type"] for kind, payload in rows if kind == LIVE_OUTBOUND)
    assert outbound == ["project.member_added", "task.created"]
    assert sorted(payload["type"] for kind, payload in rows if kind == LIVE_EVENT) == sorted(
        event.value
        for event in (
            LiveEventType.TASK_CREATED,
            LiveEventType.PROJECT_MEMBER_ADDED,
            LiveEventType.TASK_UPDATED,
            LiveEventType.TASK_DELETED,
            LiveEventType.PROJECT_MEMBER_REMOVED,
            LiveEventType.TASK_MOVED,
        )
    )
    assert all(payload["data"] == {"title": "Café"} for _, payload in rows)


async def test_both_rows_roll_back_with_the_write(app: Any, client: Any) -> None:
    database: Database = app.state.services.database
    project = uuid.UUID((await register(client))["user"]["id"])
    await _hook(database, project, "task.created", active=True)
    async with database.session(write=True) as session:
        written = await LiveRepository(session).write(
            EventDraft(LiveEventType.TASK_CREATED, project, utc_now(), {"type": "task.created"})
        )
        await session.rollback()
    assert written == [LIVE_EVENT, LIVE_OUTBOUND]
    async with database.session(write=False) as session:
        live = OutboxEvent.type.in_([LIVE_EVENT, LIVE_OUTBOUND])
        assert (await session.execute(select(OutboxEvent.id).where(live))).all() == []
