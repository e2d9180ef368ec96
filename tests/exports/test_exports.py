"""Exports: built in the background, owner-only, and the files parse back to the same rows."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from taskyard.db import utc_now
from taskyard.exports.jobs import purge_expired
from taskyard.exports.models import Export
from taskyard.exports.repository import ExportRepository
from taskyard.exports.service import GAVE_UP, MAX_EXPORTS_IN_FLIGHT
from taskyard.tasks.models import Task
from tests.helpers import PASSWORD, bearer, register, register_admin, running_app
from tests.support import SmtpServer, make_settings


async def seed_tasks(app: Any, owner_id: str, count: int) -> set[str]:
    now = utc_now()
    rows = [
        {
            "id": uuid.uuid4(),
            "title": f"Export row {n}",
            "description": f'line, "quoted" {n}',
            "status": "pending",
            "priority": "medium",
            "created_by_id": uuid.UUID(owner_id),
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    async with app.state.services.database.session(write=True) as session:
        await session.execute(insert(Task), rows)
        await session.commit()
    return {str(row["id"]) for row in rows}


async def finished(app: Any, client: httpx.AsyncClient, auth: dict[str, Any], url: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        await app.state.services.relay.drain_once()
        body = (await client.get(url, headers=bearer(auth))).json()["data"]
        if body["status"] == "done":
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("export_format", ["csv", "json"])
async def test_ten_thousand_tasks_round_trip(
    database_url: str, smtp_server: SmtpServer, export_format: str
) -> None:
    settings = make_settings(
        database_url, smtp_url=smtp_server.url, public_url="https://tasks.example.com/"
    )
    async with running_app(settings) as (app, client):
        owner = await register(client, "Exporter")
        ids = await seed_tasks(app, owner["user"]["id"], 10_000)
        requested = await client.post(
            "/api/v1/exports", json={"format": export_format}, headers=bearer(owner)
        )
        assert requested.status_code == 202
        assert requested.json()["data"]["status"] == "queued"
        location = requested.headers["location"].removeprefix("http://taskyard.test")
        status = await finished(app, client, owner, location)
        assert status["rowCount"] == 10_000
        download = await client.get(status["downloadUrl"], headers=bearer(owner))
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        if export_format == "csv":
            rows = list(csv.DictReader(io.StringIO(download.text)))
        else:
            rows = json.loads(download.content)
        assert {row["id"] for row in rows} == ids
        by_id = {row["id"]: row for row in rows}
        async with app.state.services.database.session(write=False) as session:
            stored = (await session.execute(select(Task.id, Task.title, Task.description))).all()
        for task_id, title, description in stored:
            assert by_id[str(task_id)]["title"] == title
            assert by_id[str(task_id)]["description"] == description

        def ready_mail() -> list[Any]:
            return [
                m
                for m in smtp_server.to(owner["user"]["email"])
                if m["Subject"] == "Your export is ready"
            ]

        deadline = time.monotonic() + 20
        while not ready_mail():
            assert time.monotonic() < deadline
            await app.state.services.relay.drain_once()
            await asyncio.sleep(0.05)
        # A link a mail client can open: the web client's page for this export.
        page = f"https://tasks.example.com/exports/{requested.json()['data']['id']}"
        assert page in ready_mail()[0].get_body(("plain",)).get_content()


async def test_only_the_owner_sees_an_export(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        owner, other = await register(client), await register(client)
        admin = await register_admin(client, app.state.services.database)
        requested = await client.post(
            "/api/v1/exports", json={"format": "csv"}, headers=bearer(owner)
        )
        export_id = requested.json()["data"]["id"]
        not_ready = await client.get(f"/api/v1/exports/{export_id}/download", headers=bearer(owner))
        assert not_ready.status_code == 409
        await finished(app, client, owner, f"/api/v1/exports/{export_id}")
        for stranger in (other, admin):
            for path in (f"/api/v1/exports/{export_id}", f"/api/v1/exports/{export_id}/download"):
                response = await client.get(path, headers=bearer(stranger))
                assert response.status_code == 404, (path, response.text)
                assert response.json()["success"] is False


async def test_everyone_s_tasks_are_for_admins_only(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        person = await register(client)
        await client.post("/api/v1/tasks", json={"title": "Person's task"}, headers=bearer(person))
        refused = await client.post(
            "/api/v1/exports", json={"format": "json", "scope": "all"}, headers=bearer(person)
        )
        assert refused.status_code == 403
        admin_auth = await register_admin(client, app.state.services.database)
        login = await client.post(
            "/api/v1/auth/login",
            json={"email": admin_auth["user"]["email"], "password": PASSWORD},
        )
        admin = login.json()["data"]
        requested = await client.post(
            "/api/v1/exports", json={"format": "json", "scope": "all"}, headers=bearer(admin)
        )
        status = await finished(
            app, client, admin, f"/api/v1/exports/{requested.json()['data']['id']}"
        )
        rows = json.loads((await client.get(status["downloadUrl"], headers=bearer(admin))).content)
        assert "Person's task" in {row["title"] for row in rows}
        bad = await client.post("/api/v1/exports", json={"format": "xml"}, headers=bearer(admin))
        assert bad.status_code == 400


async def test_expired_exports_are_gone(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        owner = await register(client)
        requested = await client.post(
            "/api/v1/exports", json={"format": "csv"}, headers=bearer(owner)
        )
        export_id = requested.json()["data"]["id"]
        await finished(app, client, owner, f"/api/v1/exports/{export_id}")
        async with app.state.services.database.session(write=True) as session:
            await session.execute(
                update(Export).values(expires_at=utc_now() - timedelta(seconds=1))
            )
            await session.commit()
        assert (
            await client.get(f"/api/v1/exports/{export_id}", headers=bearer(owner))
        ).status_code == 404
        assert await purge_expired(app.state.services.database) == 1


async def test_status_moves_from_queued_through_running_to_done(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        owner = await register(client)
        requested = await client.post(
            "/api/v1/exports", json={"format": "json"}, headers=bearer(owner)
        )
        url = f"/api/v1/exports/{requested.json()['data']['id']}"
        assert (await client.get(url, headers=bearer(owner))).json()["data"]["status"] == "queued"
        async with app.state.services.database.session(write=True) as session:
            await ExportRepository(session).mark_running(uuid.UUID(requested.json()["data"]["id"]))
            await session.commit()
        running = (await client.get(url, headers=bearer(owner))).json()["data"]
        assert running["status"] == "running"
        assert running["downloadUrl"] is None
        done = await finished(app, client, owner, url)
        assert done["rowCount"] == 0
        assert done["finishedAt"] is not None


FORMULA_LOOKING = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)"]


async def test_csv_cells_that_look_like_formulas_are_neutralised(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        person = await register(client)
        for text in FORMULA_LOOKING:
            created = await client.post(
                "/api/v1/tasks",
                json={"title": text, "description": f"={text}\nsecond line"},
                headers=bearer(person),
            )
            assert created.status_code == 201, created.text
        admin = await register_admin(client, app.state.services.database)
        requested = await client.post(
            "/api/v1/exports", json={"format": "csv", "scope": "all"}, headers=bearer(admin)
        )
        status = await finished(
            app, client, admin, f"/api/v1/exports/{requested.json()['data']['id']}"
        )
        download = await client.get(status["downloadUrl"], headers=bearer(admin))
        rows = list(csv.DictReader(io.StringIO(download.text)))

    assert len(rows) == 4
    for row in rows:
        for column in ("title", "description"):
            # Every such cell starts with a quote, so no spreadsheet evaluates it ...
            assert row[column].startswith("'"), row[column]
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))
    # ... and removing that one quote gives back exactly what was written.
    assert {row["title"][1:] for row in rows} == set(FORMULA_LOOKING)
    assert {row["description"][1:] for row in rows} == {
        f"={text}\nsecond line" for text in FORMULA_LOOKING
    }


async def break_export(app: Any, export_id: str) -> None:
    """Give the export filters its build can never use: every try fails (as an export queued
    with an unstorable search did before such input was refused)."""
    async with app.state.services.database.session(write=True) as session:
        await session.execute(
            update(Export).where(Export.id == uuid.UUID(export_id)).values(filters={"search": 5})
        )
        await session.commit()


async def test_an_export_given_up_says_it_failed_and_why(database_url: str) -> None:
    async with running_app(make_settings(database_url, job_max_attempts=2)) as (app, client):
        app.state.services.relay.retry_delay = lambda _attempts: timedelta(0)
        owner = await register(client)
        requested = await client.post(
            "/api/v1/exports", json={"format": "csv"}, headers=bearer(owner)
        )
        export_id = requested.json()["data"]["id"]
        await break_export(app, export_id)
        url = f"/api/v1/exports/{export_id}"
        for _ in range(3):
            await app.state.services.relay.drain_once()
        failed = (await client.get(url, headers=bearer(owner))).json()["data"]
        assert failed["status"] == "failed"
        assert failed["error"] == GAVE_UP
        assert failed["downloadUrl"] is None
        assert failed["finishedAt"] is not None
        download = await client.get(f"{url}/download", headers=bearer(owner))
        assert download.status_code == 409
        # A failed export no longer counts as in flight.
        again = await client.post("/api/v1/exports", json={"format": "csv"}, headers=bearer(owner))
        assert again.status_code == 202


async def test_text_no_encoding_can_store_is_refused_before_anything_is_queued(
    database_url: str,
) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        owner = await register(client)
        refused = await client.post(
            "/api/v1/exports",
            content=b'{"format": "csv", "search": "\\ud800"}',
            headers={**bearer(owner), "Content-Type": "application/json"},
        )
        assert refused.status_code == 400
        assert [error["field"] for error in refused.json()["errors"]] == ["search"]
        async with app.state.services.database.session(write=False) as session:
            assert (await session.scalars(select(Export))).all() == []


async def test_a_person_has_a_few_exports_in_flight_at_most(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        owner, other = await register(client), await register(client)
        queued = []
        for _ in range(MAX_EXPORTS_IN_FLIGHT):
            response = await client.post(
                "/api/v1/exports", json={"format": "csv"}, headers=bearer(owner)
            )
            assert response.status_code == 202
            queued.append(response.json()["data"]["id"])
        refused = await client.post(
            "/api/v1/exports", json={"format": "json"}, headers=bearer(owner)
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()["success"] is False
        # Someone else is not held up by it.
        theirs = await client.post("/api/v1/exports", json={"format": "csv"}, headers=bearer(other))
        assert theirs.status_code == 202
        await finished(app, client, owner, f"/api/v1/exports/{queued[0]}")
        accepted = await client.post(
            "/api/v1/exports", json={"format": "json"}, headers=bearer(owner)
        )
        assert accepted.status_code == 202
