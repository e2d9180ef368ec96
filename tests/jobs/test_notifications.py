"""Notification emails through the outbox, delivered to a real SMTP server, exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from taskyard.jobs.models import OutboxEvent
from taskyard.jobs.repository import OutboxRepository
from tests.helpers import bearer, register, running_app
from tests.support import SmtpServer, make_settings


async def drain(app: Any, until: Any, within: float = 15.0) -> None:
    """Run the relay until `until()` holds (the serve process does this by itself)."""
    deadline = time.monotonic() + within
    while not until():
        assert time.monotonic() < deadline, "the expected mail never arrived"
        if await app.state.relay.drain_once() == 0:
            await asyncio.sleep(0.1)


@pytest.fixture
def mail_settings(database_url: str, smtp_server: SmtpServer) -> Any:
    return make_settings(database_url, smtp_url=smtp_server.url)


async def test_registration_sends_one_welcome_email(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    async with running_app(mail_settings) as (app, client):
        auth = await register(client, "Wendy Welcome")
        address = auth["user"]["email"]
        await drain(app, lambda: smtp_server.to(address))
        (message,) = smtp_server.to(address)
        assert message["Subject"] == "Welcome to Taskyard"
        assert "Wendy Welcome" in message.get_body(("plain",)).get_content()
        assert "<p>Hi Wendy Welcome" in message.get_body(("html",)).get_content()
        # Draining again, or replaying the same event, sends nothing more.
        await app.state.relay.drain_once()
        async with app.state.database.session(write=False) as session:
            events = (
                await session.scalars(
                    OutboxEvent.__table__.select().where(OutboxEvent.type == "user.registered")
                )
            ).all()
        assert events
        for event in events:
            handled = await app.state.event_handlers.handle(
                event, "user.registered", {"user_id": auth["user"]["id"]}
            )
            assert handled is False
        assert len(smtp_server.to(address)) == 1


async def test_assignment_emails_the_new_assignee_only(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    async with running_app(mail_settings) as (app, client):
        owner, helper = await register(client, "Olive Owner"), await register(client, "Hal")
        await drain(app, lambda: smtp_server.to(helper["user"]["email"]))
        created = await client.post(
            "/api/v1/tasks",
            json={"title": "Paint the fence", "assigneeEmail": helper["user"]["email"]},
            headers=bearer(owner),
        )
        assert created.status_code == 201
        await drain(app, lambda: len(smtp_server.to(helper["user"]["email"])) == 2)
        assigned = smtp_server.to(helper["user"]["email"])[1]
        assert assigned["Subject"] == "You were assigned: Paint the fence"
        assert "Olive Owner" in assigned.get_body(("plain",)).get_content()
        # Assigning yourself sends nothing.
        await client.post(
            "/api/v1/tasks",
            json={"title": "Mine", "assigneeId": owner["user"]["id"]},
            headers=bearer(owner),
        )
        await app.state.relay.drain_once()
        assert len(smtp_server.to(owner["user"]["email"])) == 1  # the welcome only


async def test_people_can_turn_notifications_off(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    async with running_app(mail_settings) as (app, client):
        owner, quiet = await register(client), await register(client, "Quiet Quinn")
        await drain(app, lambda: smtp_server.to(quiet["user"]["email"]))
        switched = await client.patch(
            "/api/v1/auth/me", json={"notifications": False}, headers=bearer(quiet)
        )
        assert switched.status_code == 200
        assert switched.json()["data"]["user"]["notifications"] is False
        await client.post(
            "/api/v1/tasks",
            json={"title": "Shh", "assigneeId": quiet["user"]["id"]},
            headers=bearer(owner),
        )
        await app.state.relay.drain_once()
        assert len(smtp_server.to(quiet["user"]["email"])) == 1  # still only the welcome
        refused = await client.patch(
            "/api/v1/auth/me", json={"role": "admin"}, headers=bearer(quiet)
        )
        assert refused.status_code == 400


async def test_mail_server_outage_delays_but_loses_nothing(
    database_url: str, smtp_server: SmtpServer
) -> None:
    async with running_app(make_settings(database_url, smtp_url=smtp_server.url)) as (app, client):
        smtp_server.stop()
        auth = await register(client, "Patient Pat")
        await app.state.relay.drain_once()  # fails: the server is down; the event waits
        assert smtp_server.to(auth["user"]["email"]) == []
        smtp_server.start()
        await drain(app, lambda: smtp_server.to(auth["user"]["email"]))
        assert len(smtp_server.to(auth["user"]["email"])) == 1


async def test_register_still_succeeds_with_no_mail_configured(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        response = await client.post(
            "/api/v1/auth/register",
            json={"name": "Logged Mail", "email": "logged@example.com", "password": "password123"},
        )
        assert response.status_code == 201
        assert await app.state.relay.drain_once() == 1


async def test_the_embedded_relay_dead_letters_an_event_after_its_last_attempt(
    database_url: str,
) -> None:
    async with running_app(make_settings(database_url, job_max_attempts=3)) as (app, _client):
        app.state.relay.retry_delay = lambda _attempts: timedelta(0)
        async with app.state.database.session(write=True) as session:
            event = OutboxRepository(session).add("no.such.event", {})
            await session.commit()
        assert [await app.state.relay.drain_once() for _ in range(4)] == [1, 1, 1, 0]
        async with app.state.database.session(write=True) as session:
            outbox = OutboxRepository(session)
            assert await outbox.dead_count() == 1
            assert await outbox.pending_count() == 0
            stored = await session.get(OutboxEvent, event.id)
            assert stored is not None
            assert stored.dead_at is not None
            assert "unknown event type" in (stored.last_error or "")
            # A replay puts it back in line, with a fresh count of attempts.
            assert await outbox.replay_dead() == 1
            await session.commit()
        assert await app.state.relay.drain_once() == 1
        async with app.state.database.session(write=False) as session:
            assert await OutboxRepository(session).dead_count() == 0


async def test_titles_with_control_characters_never_reach_a_mail_header(
    mail_settings: Any,
) -> None:
    async with running_app(mail_settings) as (_, client):
        auth = await register(client)
        for title in ["Line\r\nBcc: victim@example.com", "Tab\there", "Bell\x07"]:
            response = await client.post(
                "/api/v1/tasks", json={"title": title}, headers=bearer(auth)
            )
            assert response.status_code == 400, title
            assert response.json()["errors"] == [
                {"field": "title", "message": "Title must not contain control characters"}
            ]
        kept = await client.post(
            "/api/v1/tasks",
            json={"title": "Fine title", "description": "first line\r\nsecond\tline"},
            headers=bearer(auth),
        )
        assert kept.status_code == 201
        assert kept.json()["data"]["description"] == "first line\r\nsecond\tline"
