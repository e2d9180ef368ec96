"""A project's cached views: one body for all its members, fresh on every member's next read
after any member's write, retired with one counter whatever the number of members, and closed to
a removed member (or one whose team lost the project) at once, on every instance."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from taskyard.projects.models import ProjectMember, ProjectRole
from taskyard.users.models import User
from tests.helpers import bearer, register, running_app
from tests.identity.test_store import redis_traffic, statements, two_instances
from tests.support import settings_with_shared_state


async def _shared_project(
    client: httpx.AsyncClient, owner: dict[str, Any], *members: dict[str, Any]
) -> dict[str, Any]:
    created = await client.post("/api/v1/projects", json={"name": "Shared"}, headers=bearer(owner))
    project: dict[str, Any] = created.json()["data"]
    for member in members:
        added = await client.post(
            f"/api/v1/projects/{project['id']}/members",
            json={"email": member["user"]["email"], "role": "editor"},
            headers=bearer(owner),
        )
        assert added.status_code == 201
    return project


async def _read(
    client: httpx.AsyncClient, auth: dict[str, Any], project: dict[str, Any], view: str = ""
) -> httpx.Response:
    return await client.get(
        f"/api/v1/tasks{view}", params={"projectId": project["id"]}, headers=bearer(auth)
    )


@pytest.fixture(params=["in-process", "redis"])
def shared_settings(request: pytest.FixtureRequest, database_url: str) -> Any:
    return settings_with_shared_state(request, database_url, request.param)


async def test_every_member_reads_the_next_write_of_any_other(shared_settings: Any) -> None:
    async with running_app(shared_settings) as (app, client):
        owner, reader = await register(client, "Owner"), await register(client, "Reader")
        project = await _shared_project(client, owner, reader)
        body = {"title": "Before", "projectId": project["id"]}
        task = (await client.post("/api/v1/tasks", json=body, headers=bearer(owner))).json()
        for view in ("", "/stats"):
            assert (await _read(client, reader, project, view)).headers["x-cache"] == "MISS"
            with statements(app) as sql:
                hit = await _read(client, reader, project, view)
            assert hit.headers["x-cache"] == "HIT"
            assert sql == []  # membership and body both from the cache
        # The owner's write shows in the reader's very next read, list and counts.
        changed = await client.patch(
            f"/api/v1/tasks/{task['data']['id']}",
            json={"title": "After", "status": "completed"},
            headers=bearer(owner),
        )
        assert changed.status_code == 200
        fresh = await _read(client, reader, project)
        assert fresh.headers["x-cache"] == "MISS"
        assert [t["title"] for t in fresh.json()["data"]] == ["After"]
        counts = (await _read(client, reader, project, "/stats")).json()["data"]
        assert {c["_id"]: c["count"] for c in counts["byStatus"]}["completed"] == 1
        # Another member's first read is made by the database, then served to them too.
        assert (await _read(client, owner, project)).headers["x-cache"] == "MISS"
        assert (await _read(client, owner, project)).headers["x-cache"] == "HIT"


async def test_a_removed_member_is_refused_at_once_on_every_instance(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (_app, first, second):
        owner, member = await register(first, "Owner"), await register(first, "Member")
        project = await _shared_project(first, owner, member)
        for _ in range(2):
            read = await _read(second, member, project)
        assert read.headers["x-cache"] == "HIT"
        removed = await first.delete(
            f"/api/v1/projects/{project['id']}/members/{member['user']['id']}",
            headers=bearer(owner),
        )
        assert removed.status_code == 200
        assert (await _read(second, member, project)).status_code == 404


async def test_a_team_that_loses_the_project_loses_its_cached_views(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (_app, first, second):
        owner, mate = await register(first, "Owner"), await register(first, "Mate")
        team = (await first.post("/api/v1/teams", json={"name": "T"}, headers=bearer(owner))).json()
        team_id = team["data"]["id"]
        await first.post(
            f"/api/v1/teams/{team_id}/members",
            json={"email": mate["user"]["email"]},
            headers=bearer(owner),
        )
        project = await _shared_project(first, owner)
        shared = await first.post(
            f"/api/v1/projects/{project['id']}/teams",
            json={"teamId": team_id, "role": "viewer"},
            headers=bearer(owner),
        )
        assert shared.status_code == 201
        for _ in range(2):
            read = await _read(second, mate, project)
        assert read.headers["x-cache"] == "HIT"
        # Out of the team: out of the project, at once.
        left = await first.delete(
            f"/api/v1/teams/{team_id}/members/{mate['user']['id']}", headers=bearer(owner)
        )
        assert left.status_code == 200
        assert (await _read(second, mate, project)).status_code == 404


async def test_a_write_costs_the_same_in_a_project_of_one_and_of_two_hundred(
    database_url: str, redis_url: str
) -> None:
    """Retiring a project's views is one counter: the Redis commands a write sends are the same
    whether one person or two hundred read the project."""
    async with two_instances(database_url, redis_url) as (app, first, _second):
        owner = await register(first, "Owner")
        small, large = await _shared_project(first, owner), await _shared_project(first, owner)
        async with app.state.services.database.session(write=True) as session:
            for n in range(199):
                person = User(
                    name=f"Member {n}",
                    email=f"m{n}-{uuid.uuid4().hex[:8]}@example.com",
                    password_hash="!",
                )
                session.add(person)
                await session.flush()
                session.add(
                    ProjectMember(
                        project_id=uuid.UUID(large["id"]),
                        user_id=person.id,
                        role=ProjectRole.VIEWER,
                    )
                )
            await session.commit()
        members = await first.get(f"/api/v1/projects/{large['id']}/members", headers=bearer(owner))
        assert len(members.json()["data"]) == 200

        async def write_traffic(project: dict[str, Any]) -> list[list[str]]:
            body = {"title": "Counted", "projectId": project["id"]}
            created = await first.post("/api/v1/tasks", json=body, headers=bearer(owner))
            path = f"/api/v1/tasks/{created.json()['data']['id']}"
            await first.get(path, headers=bearer(owner))  # the caller's state is warm
            with redis_traffic() as trips:
                changed = await first.patch(path, json={"title": "Changed"}, headers=bearer(owner))
            assert changed.status_code == 200
            return trips

        in_small, in_large = await write_traffic(small), await write_traffic(large)
        assert in_small == in_large, (in_small, in_large)
        assert sum(len(trip) for trip in in_large) < 20, in_large


async def test_a_project_hit_is_one_redis_round_trip(database_url: str, redis_url: str) -> None:
    """The caller's identity state, the limiter's count, then the project's version, access
    generation, the caller's admission and the body in one MGET: all sent together, no SQL."""
    async with two_instances(database_url, redis_url) as (app, first, _second):
        owner, reader = await register(first, "Owner"), await register(first, "Reader")
        project = await _shared_project(first, owner, reader)
        for _ in range(2):
            await _read(first, reader, project)
        with redis_traffic() as trips, statements(app) as sql:
            hit = await _read(first, reader, project)
        assert hit.headers["x-cache"] == "HIT"
        assert trips == [["mget", "set", "incr", "get", "mget"]], trips
        assert sql == []
