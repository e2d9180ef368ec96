"""Due-soon reminders: the right tasks, the right people, once per due date, however many scan."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from taskyard.db import Database, utc_now
from taskyard.tasks.notifications import scan_due_soon
from tests.helpers import bearer, register, running_app
from tests.support import SmtpServer, make_settings


async def task(client: httpx.AsyncClient, auth: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tasks", json=body, headers=bearer(auth))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


def due_in(delta: timedelta) -> str:
    return (utc_now() + delta).isoformat()


async def drain_all(app: Any) -> None:
    while await app.state.services.relay.drain_once():
        pass


async def test_reminders_go_to_owner_and_assignee_once(
    database_url: str, smtp_server: SmtpServer
) -> None:
    settings = make_settings(database_url, smtp_url=smtp_server.url)
    async with running_app(settings) as (app, client):
        owner, helper = await register(client, "Olga"), await register(client, "Hugo")
        soon = await task(
            client,
            owner,
            title="Ship it",
            dueDate=due_in(timedelta(hours=2)),
            assigneeId=helper["user"]["id"],
        )
        await task(client, owner, title="Later", dueDate=due_in(timedelta(days=3)))
        await task(
            client,
            owner,
            title="Done already",
            status="completed",
            dueDate=due_in(timedelta(hours=1)),
        )
        await task(client, owner, title="Overdue", dueDate=due_in(-timedelta(hours=1)))
        await drain_all(app)  # welcome and assignment mails out of the way
        before = len(smtp_server.messages)

        # Two workers' scanners, each with its own connection pool, racing.
        other_worker = Database(settings)
        try:
            results = await asyncio.gather(
                scan_due_soon(app.state.services.database), scan_due_soon(other_worker)
            )
            assert sorted(results) == [0, 1]
            assert await scan_due_soon(app.state.services.database) == 0
        finally:
            await other_worker.dispose()
        await drain_all(app)

        reminders = smtp_server.messages[before:]
        assert sorted(m["To"] for m in reminders) == sorted(
            [owner["user"]["email"], helper["user"]["email"]]
        )
        assert {m["Subject"] for m in reminders} == {"Due within 24 hours: Ship it"}

        # A new due date is a new reminder.
        await client.patch(
            f"/api/v1/tasks/{soon['id']}",
            json={"dueDate": due_in(timedelta(hours=5))},
            headers=bearer(owner),
        )
        assert await scan_due_soon(app.state.services.database) == 1
