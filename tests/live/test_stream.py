"""The live event stream, over real HTTP: who hears what, catching up, tickets, and streams that
end when their caller's access does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from taskyard.config import Settings
from tests.helpers import bearer, new_task, register, register_admin, serving_app
from tests.live.streams import open_stream
from tests.support import make_settings, settings_with_shared_state, unique_prefix

HEARTBEAT = 0.5  # seconds: ending streams is checked at each


@pytest.fixture(params=["in-process", "redis"])
def live_settings(request: pytest.FixtureRequest, database_url: str) -> Settings:
    settings = settings_with_shared_state(request, database_url, request.param)
    return settings.model_copy(
        update={"live_heartbeat_seconds": HEARTBEAT, "outbox_poll_seconds": 0.2}
    )


@asynccontextmanager
async def api(settings: Settings) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    async with (
        serving_app(settings) as (_app, base_url),
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        yield base_url, client


async def add_member(
    client: httpx.AsyncClient,
    owner: dict[str, Any],
    project_id: str,
    member: dict[str, Any],
    role: str = "editor",
) -> None:
    added = await client.post(
        f"/api/v1/projects/{project_id}/members",
        json={"email": member["user"]["email"], "role": role},
        headers=bearer(owner),
    )
    assert added.status_code == 201, added.text


async def test_members_hear_of_changes_and_nobody_else_does(live_settings: Settings) -> None:
    async with api(live_settings) as (base_url, client):
        owner, member, outsider = [await register(client, n) for n in ("Owen", "Mei", "Olga")]
        project = await client.post("/api/v1/projects", json={"name": "P"}, headers=bearer(owner))
        project_id = project.json()["data"]["id"]
        async with (
            open_stream(base_url, bearer(member)) as members,
            open_stream(base_url, bearer(outsider)) as outsiders,
        ):
            assert members.response.status_code == 200
            assert members.response.headers["content-type"].startswith("text/event-stream")
            await add_member(client, owner, project_id, member)
            joined = await members.event_of("project.member_added")
            assert joined.json["data"]["id"] == member["user"]["id"]
            assert joined.json["data"]["role"] == "editor"
            task = await new_task(client, owner, "Ship it", project_id)
            created = await members.event_of("task.created")
            assert created.json["type"] == "task.created"
            assert created.json["projectId"] == project_id
            assert created.json["taskId"] == task["id"]
            assert created.json["actorId"] == owner["user"]["id"]
            assert created.json["data"] == task  # the task exactly as the API returned it
            assert created.id

            moved = await client.post(
                f"/api/v1/tasks/{task['id']}/move",
                json={"status": "in-progress"},
                headers=bearer(member),
            )
            assert moved.status_code == 200, moved.text
            assert (await members.event_of("task.moved")).json["data"]["status"] == "in-progress"
            comment = await client.post(
                f"/api/v1/tasks/{task['id']}/comments",
                json={"body": "On it"},
                headers=bearer(member),
            )
            assert comment.status_code == 201
            heard = await members.event_of("comment.created")
            assert heard.json["data"] == comment.json()["data"]

            # The outsider's stream works, and the first thing on it is their own task.
            own = await new_task(client, outsider, "Mine")
            assert (await outsiders.event_of("task.created")).json["taskId"] == own["id"]
            assert (await members.ends(within=0.3)) is False  # nothing of the outsider's

            removed = await client.delete(
                f"/api/v1/projects/{project_id}/members/{member['user']['id']}",
                headers=bearer(owner),
            )
            assert removed.status_code == 200
            gone = await members.event_of("project.member_removed")
            assert gone.json["data"] == {"userId": member["user"]["id"]}
            # From now on, nothing of the project reaches the removed member.
            await new_task(client, owner, "After you left", project_id)
            updated = await client.patch(
                f"/api/v1/tasks/{task['id']}", json={"title": "Renamed"}, headers=bearer(owner)
            )
            assert updated.status_code == 200
            mine = await new_task(client, member, "Still mine")
            assert (await members.event_of("task.created")).json["taskId"] == mine["id"]


async def test_a_reconnecting_stream_is_sent_what_it_missed(live_settings: Settings) -> None:
    async with api(live_settings) as (base_url, client):
        person = await register(client, "Rhea")
        async with open_stream(base_url, bearer(person)) as stream:
            first = await new_task(client, person, "First")
            last_seen = await stream.event_of("task.created")
            assert last_seen.json["taskId"] == first["id"]
        missed = [await new_task(client, person, f"Missed {n}") for n in range(3)]
        deleted = await client.delete(f"/api/v1/tasks/{first['id']}", headers=bearer(person))
        assert deleted.status_code == 200
        assert last_seen.id is not None
        for resume in (
            {"headers": {"Last-Event-ID": last_seen.id}},
            {"params": {"lastEventId": last_seen.id}},
        ):
            headers = {**bearer(person), **resume.get("headers", {})}
            async with open_stream(base_url, headers, resume.get("params")) as stream:
                for task in missed:
                    assert (await stream.event_of("task.created")).json["taskId"] == task["id"]
                gone = await stream.event_of("task.deleted")
                assert gone.json["data"] == {"id": first["id"]}

        # An id from before what is kept: told to read everything again.
        async with open_stream(base_url, {**bearer(person), "Last-Event-ID": "1-0"}) as stream:
            assert (await stream.next_event()).event == "resync"
        async with open_stream(base_url, {**bearer(person), "Last-Event-ID": "yesterday"}) as bad:
            assert bad.response.status_code == 400
            assert bad.response.json()["success"] is False


async def test_a_browser_opens_its_stream_with_a_single_use_ticket(
    live_settings: Settings,
) -> None:
    async with api(live_settings) as (base_url, client):
        person = await register(client, "Tia")
        issued = await client.post("/api/v1/events/tickets", headers=bearer(person))
        assert issued.status_code == 201, issued.text
        ticket = issued.json()["data"]["ticket"]
        assert issued.json()["data"]["expiresIn"] == live_settings.live_ticket_seconds
        async with open_stream(base_url, params={"ticket": ticket}) as stream:
            assert stream.response.status_code == 200
            task = await new_task(client, person, "Seen through a ticket")
            assert (await stream.event_of("task.created")).json["taskId"] == task["id"]
        async with open_stream(base_url, params={"ticket": ticket}) as again:
            assert again.response.status_code == 401  # used once already
        async with open_stream(base_url) as anonymous:
            assert anonymous.response.status_code == 401


async def test_logout_and_deactivation_end_the_stream(live_settings: Settings) -> None:
    async with api(live_settings) as (base_url, client):
        person = await register(client, "Lou")
        async with open_stream(base_url, bearer(person)) as stream:
            assert (await stream.ends(within=HEARTBEAT * 3)) is False
            assert stream.comments  # keep-alive comments come at each heartbeat
            logged_out = await client.post("/api/v1/auth/logout", headers=bearer(person))
            assert logged_out.status_code == 200, logged_out.text
            assert await stream.ends(within=HEARTBEAT * 4)


async def test_a_write_on_one_instance_reaches_a_stream_on_another(
    database_url: str, redis_url: str
) -> None:
    settings = make_settings(
        database_url,
        redis_url=redis_url,
        redis_key_prefix=unique_prefix(),
        live_heartbeat_seconds=HEARTBEAT,
        outbox_poll_seconds=0.2,
    )
    async with (
        serving_app(settings) as (_first_app, first_url),
        serving_app(settings) as (_second_app, second_url),
        httpx.AsyncClient(base_url=first_url) as first,
    ):
        owner, member = [await register(first, name) for name in ("Ana", "Ben")]
        project = await first.post("/api/v1/projects", json={"name": "P"}, headers=bearer(owner))
        project_id = project.json()["data"]["id"]
        async with open_stream(second_url, bearer(member)) as stream:
            await add_member(first, owner, project_id, member, "viewer")
            await stream.event_of("project.member_added")
            task = await new_task(first, owner, "Across instances", project_id)
            assert (await stream.event_of("task.created")).json["taskId"] == task["id"]
            # A ticket from one instance opens a stream on the other.
            issued = await first.post("/api/v1/events/tickets", headers=bearer(member))
            async with open_stream(
                second_url, params={"ticket": issued.json()["data"]["ticket"]}
            ) as by_ticket:
                assert by_ticket.response.status_code == 200


async def test_deactivation_ends_the_stream(live_settings: Settings) -> None:
    async with (
        serving_app(live_settings) as (app, base_url),
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        admin = await register_admin(client, app.state.services.database)
        person = await register(client, "Dee")
        async with open_stream(base_url, bearer(person)) as stream:
            assert (await stream.ends(within=HEARTBEAT * 2)) is False
            deactivated = await client.patch(
                f"/api/v1/users/{person['user']['id']}",
                json={"isActive": False},
                headers=bearer(admin),
            )
            assert deactivated.status_code == 200, deactivated.text
            assert await stream.ends(within=HEARTBEAT * 4)


async def test_api_tokens_need_tasks_read_and_revoking_ends_their_stream(
    live_settings: Settings,
) -> None:
    async with api(live_settings) as (base_url, client):
        person = await register(client, "Pat")

        async def token(scopes: list[str]) -> dict[str, Any]:
            made = await client.post(
                "/api/v1/auth/tokens", json={"name": "ci", "scopes": scopes}, headers=bearer(person)
            )
            assert made.status_code == 201, made.text
            data: dict[str, Any] = made.json()["data"]
            return data

        projects_only = await token(["projects:read"])
        async with open_stream(base_url, bearer(projects_only)) as refused:
            assert refused.response.status_code == 403
        reader = await token(["tasks:read"])
        async with open_stream(base_url, bearer(reader)) as stream:
            task = await new_task(client, person, "Seen by a script")
            assert (await stream.event_of("task.created")).json["taskId"] == task["id"]
            revoked = await client.delete(
                f"/api/v1/auth/tokens/{reader['id']}", headers=bearer(person)
            )
            assert revoked.status_code == 200
            assert await stream.ends(within=HEARTBEAT * 4)
