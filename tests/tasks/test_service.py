"""The create's unit of work: a create that writes nothing else is its own transaction on
PostgreSQL; one with more to write (an assignee to tell, an idempotency key to keep) is one
transaction with it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from taskyard.db import Database
from taskyard.jobs.models import OutboxEvent
from taskyard.tasks.events import TASK_ASSIGNED
from taskyard.tasks.models import Task
from tests.helpers import TRANSACTION_CONTROL, bearer, counted_statements, register, until


async def _create(
    app: Any, client: Any, auth: dict[str, Any], body: dict[str, Any], **headers: str
) -> tuple[dict[str, Any], list[str]]:
    database: Database = app.state.services.database
    for _ in range(2):  # the instance then vouches for the caller without reading the account
        assert (await client.get("/api/v1/tasks", headers=bearer(auth))).status_code == 200
    with counted_statements(database, transaction_control=True) as sent:
        created = await client.post("/api/v1/tasks", json=body, headers=bearer(auth) | headers)
        assert created.status_code == 201, created.text
        # asyncpg's log comes a loop turn late: wait for the insert, and a COMMIT to its BEGIN.
        await until(lambda: _ended(sent))
    return created.json()["data"], sent


def _ended(sent: list[str]) -> bool:
    control = _transaction_control(sent)
    inserted = any("INSERT INTO tasks" in statement for statement in sent)
    return inserted and control.count("BEGIN") == control.count("COMMIT")


def _transaction_control(sent: list[str]) -> list[str]:
    verbs = [statement.split(maxsplit=1)[0].rstrip(";").upper() for statement in sent]
    return [verb for verb in verbs if verb in TRANSACTION_CONTROL]


async def test_a_plain_create_sends_no_begin_or_commit(app: Any, client: Any) -> None:
    database: Database = app.state.services.database
    owner = await register(client)
    task, sent = await _create(app, client, owner, {"title": "Alone"})
    if database.is_sqlite:  # SQLite has no writing CTEs: the create is four statements
        assert len([s for s in sent if "INSERT INTO" in s]) == 3, sent
    else:
        assert _transaction_control(sent) == [], sent
        assert len(sent) == 1, sent
    async with database.session(write=False) as session:
        assert (
            await session.scalar(select(Task.title).where(Task.id == uuid.UUID(task["id"])))
            == "Alone"
        )


async def test_a_create_with_more_to_write_is_one_transaction(app: Any, client: Any) -> None:
    database: Database = app.state.services.database
    owner, helper = await register(client), await register(client)
    assigned, sent = await _create(
        app, client, owner, {"title": "Tell them", "assigneeId": helper["user"]["id"]}
    )
    if not database.is_sqlite:
        assert _transaction_control(sent) == ["BEGIN", "COMMIT"], sent
    async with database.session(write=False) as session:
        notices = await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.type == TASK_ASSIGNED)
        )
        assert [notice["task_id"] for notice in notices] == [assigned["id"]]

    key = {"Idempotency-Key": "create-once"}
    first, sent = await _create(app, client, owner, {"title": "Once"}, **key)
    if not database.is_sqlite:  # the key is claimed first: one transaction for both
        assert _transaction_control(sent) == ["BEGIN", "COMMIT"], sent
    replayed = await client.post(
        "/api/v1/tasks", json={"title": "Once"}, headers=bearer(owner) | key
    )
    assert replayed.status_code == 201
    assert replayed.json()["data"] == first
