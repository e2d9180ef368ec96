"""Notification emails through the outbox, delivered to a real SMTP server, exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from taskyard.db import utc_now
from taskyard.jobs.models import MailClaim, OutboxEvent
from taskyard.jobs.repository import OutboxRepository
from tests.helpers import bearer, register, running_app
from tests.support import SmtpServer, make_settings


async def drain(app: Any, until: Any, within: float = 15.0) -> None:
    """Run the relay until `until()` holds (the serve process does this by itself)."""
    deadline = time.monotonic() + within
    while not until():
        assert time.monotonic() < deadline, "the expected mail never arrived"
        if await app.state.services.relay.drain_once() == 0:
            await asyncio.sleep(0.1)


async def welcomed(app: Any, client: Any, smtp_server: SmtpServer, name: str) -> Any:
    """A person who registered and whose welcome mail arrived."""
    auth = await register(client, name)
    await drain(app, lambda: smtp_server.to(auth["user"]["email"]))
    return auth


def mails_of_event(smtp_server: SmtpServer, address: str, event_id: uuid.UUID) -> list[Any]:
    return [m for m in smtp_server.to(address) if str(event_id) in (m["Message-ID"] or "")]


async def test_registration_sends_one_welcome_email(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    async with running_app(mail_settings) as (app, client):
        auth = await register(client, "Wendy Welcome")
        address = auth["user"]["email"]
        welcome = OutboxEvent.__table__.select().where(OutboxEvent.type == "user.registered")
        async with app.state.services.database.session(write=False) as session:
            (event,) = (await session.execute(welcome)).all()
        await drain(app, lambda: smtp_server.to(address))
        (message,) = smtp_server.to(address)
        assert message["Subject"] == "Welcome to Taskyard"
        assert "Wendy Welcome" in message.get_body(("plain",)).get_content()
        assert "<p>Hi Wendy Welcome" in message.get_body(("html",)).get_content()
        # Handed on, the event is gone from the outbox: draining again sends nothing more.
        assert await app.state.services.relay.drain_once() == 0
        async with app.state.services.database.session(write=False) as session:
            assert (await session.execute(welcome)).all() == []
        # And a redelivery of the same event (a broker may deliver twice) sends nothing more.
        handled = await app.state.services.event_handlers.handle(
            event.id, "user.registered", {"user_id": auth["user"]["id"]}
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
        await app.state.services.relay.drain_once()
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
        await app.state.services.relay.drain_once()
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
        await app.state.services.relay.drain_once()  # fails: the server is down; the event waits
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
        assert await app.state.services.relay.drain_once() == 1


async def test_the_embedded_relay_dead_letters_an_event_after_its_last_attempt(
    database_url: str,
) -> None:
    async with running_app(make_settings(database_url, job_max_attempts=3)) as (app, _client):
        app.state.services.relay.retry_delay = lambda _attempts: timedelta(0)
        async with app.state.services.database.session(write=True) as session:
            event = OutboxRepository(session).add("no.such.event", {})
            await session.commit()
        assert [await app.state.services.relay.drain_once() for _ in range(4)] == [1, 1, 1, 0]
        async with app.state.services.database.session(write=True) as session:
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
        assert await app.state.services.relay.drain_once() == 1
        async with app.state.services.database.session(write=False) as session:
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


async def test_two_copies_of_one_event_handled_side_by_side_send_one_mail(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    """A relay that republished, or a redelivery, while the first copy is still being sent."""
    async with running_app(mail_settings) as (app, client):
        auth = await welcomed(app, client, smtp_server, "Twice Told")
        event_id, payload = uuid.uuid4(), {"user_id": auth["user"]["id"]}
        handlers = app.state.services.event_handlers
        held = smtp_server.hold_first_message()
        first = asyncio.create_task(handlers.handle(event_id, "user.registered", payload))
        assert await asyncio.to_thread(held.wait, 10)
        second = asyncio.create_task(handlers.handle(event_id, "user.registered", payload))
        # While the first sender holds the claim, the second copy waits and sends nothing.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(second), timeout=1.0)
        assert smtp_server.handler.attempts == 2  # the welcome, then the held send
        smtp_server.release_held()
        # The held send is turned away: the first copy fails, and the second sends the mail.
        with pytest.raises(Exception, match="451"):
            await first
        assert await second is True
        sent = mails_of_event(smtp_server, auth["user"]["email"], event_id)
        assert len(sent) == 1
        assert sent[0]["Message-ID"] == f"<{event_id}@taskyard.local>"
        assert await handlers.handle(event_id, "user.registered", payload) is False
        async with app.state.services.database.session(write=False) as session:
            assert await session.get(MailClaim, event_id) is None


async def test_a_claim_left_by_a_sender_that_died_is_taken_over_when_its_lease_runs_out(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    async with running_app(mail_settings) as (app, client):
        auth = await welcomed(app, client, smtp_server, "Left Behind")
        event_id = uuid.uuid4()
        async with app.state.services.database.session(write=True) as session:
            stale_until = utc_now() + timedelta(seconds=1.5)
            session.add(MailClaim(event_id=event_id, claimed_until=stale_until))
            await session.commit()
        started = time.monotonic()
        handled = await app.state.services.event_handlers.handle(
            event_id, "user.registered", {"user_id": auth["user"]["id"]}
        )
        assert handled is True
        assert time.monotonic() - started >= 1.0  # not before the dead sender's lease ran out
        sent = mails_of_event(smtp_server, auth["user"]["email"], event_id)
        assert len(sent) == 1
