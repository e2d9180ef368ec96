"""Task queries: how many statements a list costs, and what the filters select."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.activity.models import Action, TaskActivity
from taskyard.db import Database, utc_now
from taskyard.jobs.models import OutboxEvent
from taskyard.labels.models import TaskLabel
from taskyard.live.events import LIVE_EVENT, LIVE_OUTBOUND, EventDraft, LiveEventType
from taskyard.tasks.models import Task, TaskPriority, TaskStatus
from taskyard.tasks.repository import SortOrder, TaskFilter, TaskRepository
from taskyard.tasks.schemas import TaskOut, list_row_json
from taskyard.users.models import User
from taskyard.webhooks.models import Webhook
from tests.helpers import bearer, counted_statements, register
from tests.support import make_settings


async def seed(session: AsyncSession, owners: int, tasks_each: int) -> list[User]:
    users = [
        User(
            name=f"Owner {n}",
            email=f"owner{n}-{uuid.uuid4().hex[:6]}@example.com",
            password_hash="x",
        )
        for n in range(owners)
    ]
    session.add_all(users)
    await session.flush()
    statuses, priorities = list(TaskStatus), list(TaskPriority)
    session.add_all(
        Task(
            title=f"Task {n} of {user.name}",
            status=statuses[n % 3],
            priority=priorities[(n // 3) % 3],
            owner=user,
        )
        for user in users
        for n in range(tasks_each)
    )
    await session.commit()
    return users


async def test_a_page_and_its_total_are_one_statement(app: Any, session: AsyncSession) -> None:
    await seed(session, owners=8, tasks_each=5)
    database: Database = app.state.services.database
    async with database.session(write=False) as reader:
        repository = TaskRepository(reader)
        with counted_statements(database) as statements:
            tasks, total = await repository.page(
                TaskFilter(owner_id=None), order=SortOrder.parse("-createdAt"), limit=30
            )
            owner_names = {row["owner_name"] for row in tasks}
    assert total == 40  # all the matches, not the page
    assert len(tasks) == 30
    assert len(owner_names) > 1  # owners came with the page: no per-row query
    assert len(statements) == 1, statements


async def test_a_page_past_the_end_still_counts_the_matches(
    app: Any, session: AsyncSession
) -> None:
    owners = await seed(session, owners=2, tasks_each=5)
    database: Database = app.state.services.database
    order = SortOrder.parse("-createdAt")
    async with database.session(write=False) as reader:
        repository = TaskRepository(reader)
        mine = TaskFilter(owner_id=owners[0].id)
        past, total = await repository.page(mine, order=order, limit=10, offset=50)
        assert (len(past), total) == (0, 5)
        last = (await repository.page(mine, order=order, limit=10))[0][-1]
        beyond, total = await repository.page(
            mine, order=order, limit=10, after=(order.key_of(last), last["id"])
        )
        assert (len(beyond), total) == (0, 5)
        nobody, total = await repository.page(
            TaskFilter(owner_id=uuid.uuid4()), order=order, limit=10
        )
        assert (len(nobody), total) == (0, 0)


async def test_the_total_is_counted_once_per_statement_on_postgresql(postgres_url: str) -> None:
    """An uncorrelated subquery (an InitPlan), not a count per row."""
    database = Database(make_settings(postgres_url))
    query = TaskRepository.page_query(
        TaskFilter(owner_id=uuid.uuid4()), SortOrder.parse("-createdAt"), 20
    )
    sql = query.compile(database.engine, compile_kwargs={"literal_binds": True})
    try:
        async with database.session(write=False) as reader:
            plan = await reader.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
    finally:
        await database.dispose()
    assert "InitPlan" in json.dumps(plan)


async def test_filters_select_exactly_the_matching_tasks(session: AsyncSession) -> None:
    users = await seed(session, owners=2, tasks_each=9)
    repository = TaskRepository(session)
    owner = users[0]

    async def count(**criteria: Any) -> int:
        _, total = await repository.page(
            TaskFilter(owner_id=owner.id, **criteria),
            order=SortOrder.parse("-createdAt"),
            limit=100,
        )
        return total

    assert await count() == 9
    assert await count(status=TaskStatus.COMPLETED) == 3
    assert await count(priority=TaskPriority.HIGH) == 3
    assert await count(status=TaskStatus.PENDING, priority=TaskPriority.LOW) == 1
    assert await count(search="task 1 of") == 1
    assert await count(search="OWNER 1") == 0  # search covers title and description only


async def test_stats_groups_by_status_and_priority(session: AsyncSession) -> None:
    users = await seed(session, owners=2, tasks_each=9)
    rows = await TaskRepository(session).count_by_status_and_priority(owner_id=users[1].id)
    assert sum(count for _, _, count in rows) == 9
    assert {(status, priority) for status, priority, _ in rows} == {
        (status, priority) for status in TaskStatus for priority in TaskPriority
    }


async def _plan(session: AsyncSession, task_filter: TaskFilter, sort: str) -> str:
    query = TaskRepository.page_query(task_filter, SortOrder.parse(sort), 10)
    dialect = session.get_bind().dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        rows = await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        return "\n".join(str(row[-1]) for row in rows)
    # A handful of rows would always be scanned; forbid that to see which index fits.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = await session.execute(text(f"EXPLAIN {sql}"))
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(
    ("criteria", "sort", "index"),
    [
        ({}, "-createdAt", "ix_tasks_owner_created"),
        ({"status": TaskStatus.PENDING}, "-createdAt", "ix_tasks_owner_"),
        ({"priority": TaskPriority.HIGH}, "-createdAt", "ix_tasks_owner_"),
    ],
)
async def test_owner_list_queries_are_served_by_an_index(
    session: AsyncSession, criteria: dict[str, Any], sort: str, index: str
) -> None:
    users = await seed(session, owners=3, tasks_each=6)
    plan = await _plan(session, TaskFilter(owner_id=users[0].id, **criteria), sort)
    assert index in plan, plan
    assert "SCAN tasks" not in plan  # SQLite's word for a full table scan
    assert "TEMP B-TREE" not in plan  # SQLite sorting by itself
    assert "Sort" not in plan  # PostgreSQL sorting by itself


async def test_list_rows_serialise_exactly_as_task_out(app: Any, session: AsyncSession) -> None:
    """The list's fast path (columns straight to JSON) and the model say the same thing."""
    users = await seed(session, owners=2, tasks_each=3)
    first_task = (
        await session.scalars(select(Task).where(Task.created_by_id == users[0].id))
    ).first()
    assert first_task is not None
    first_task.assignee_id = users[1].id
    first_task.due_date = utc_now()
    await session.commit()
    repository = TaskRepository(session)
    rows, _ = await repository.page(
        TaskFilter(owner_id=None), order=SortOrder.parse("-createdAt"), limit=10
    )
    for row in rows:
        task = await repository.get_visible(row["id"], users[0], for_update=False) or (
            await repository.get_visible(row["id"], users[1])
        )
        assert task is not None
        expected = json.loads(TaskOut.model_validate(task).model_dump_json(by_alias=True))
        assert json.loads(json.dumps(list_row_json(row))) == expected
        assert list(list_row_json(row)) == list(expected)  # the same keys in the same order


async def test_a_person_s_own_task_statements_name_the_owner(app: Any, client: Any) -> None:
    """What keeps a person's own views on one shard when tasks are distributed by owner
    (docs/scaling.md): every statement their create, list and stats send to `tasks` carries
    `created_by_id` in its conditions, not just among its columns."""

    person = await register(client)
    with counted_statements(app.state.services.database) as statements:
        created = await client.post(
            "/api/v1/tasks", json={"title": "Sharded"}, headers=bearer(person)
        )
        assert created.status_code == 201
        for path in ("/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/tasks?status=pending"):
            response = await client.get(path, headers=bearer(person))
            assert response.status_code == 200
        await asyncio.sleep(0)  # asyncpg hands its query log over on the loop's next turn
    # On PostgreSQL the create reads its row back in the same statement (a writing CTE).
    inserts = [s for s in statements if "INSERT INTO tasks " in s]
    reads = [s for s in statements if s.startswith("SELECT") and "FROM tasks" in s]
    assert len(inserts) == 1
    assert "created_by_id" in inserts[0]
    assert len(reads) >= 3, statements  # the two lists, the stats
    assert all("tasks.created_by_id =" in read.split("WHERE", 1)[1] for read in reads), reads


async def _outbox(database: Database) -> dict[str, list[dict[str, Any]]]:
    async with database.session(write=False) as session:
        rows = (await session.execute(select(OutboxEvent.type, OutboxEvent.payload))).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for kind, payload in rows:
        found.setdefault(kind, []).append(payload)
    return found


@pytest.mark.parametrize("assigned_and_labelled", [True, False])
async def test_a_create_writes_its_labels_trail_and_event_with_the_task(
    app: Any, client: Any, assigned_and_labelled: bool
) -> None:
    """On PostgreSQL the event is drafted before the row is read back and the statement puts the
    people in: what the streams and the webhooks get is still exactly the response's task."""
    database: Database = app.state.services.database
    owner, helper = await register(client, "Owner Ö"), await register(client, "Helper")
    project = owner["user"]["id"]  # the personal project
    async with database.session(write=True) as session:
        session.add(
            Webhook(
                project_id=uuid.UUID(project),
                url="http://127.0.0.1:9/hook",
                events="task.created",
                secret="whsec_test",
            )
        )
        await session.commit()
    body: dict[str, Any] = {"title": 'Plan "the" week', "description": "Ünïcode, 'quotes'"}
    label_ids: list[str] = []
    if assigned_and_labelled:
        for name in ("Urgent", "Later"):
            label = await client.post(
                f"/api/v1/projects/{project}/labels",
                json={"name": name, "color": "#ff0000"},
                headers=bearer(owner),
            )
            assert label.status_code == 201, label.text
            label_ids.append(label.json()["data"]["id"])
        body |= {
            "assigneeEmail": helper["user"]["email"],
            "labels": label_ids,
            "dueDate": "2031-05-06T07:08:09.123456Z",
            "priority": "high",
            "repeat": {"every": 2, "unit": "week"},
        }
    created = await client.post("/api/v1/tasks", json=body, headers=bearer(owner))
    assert created.status_code == 201, created.text
    task = created.json()["data"]
    assert (task["assignee"] is not None) is assigned_and_labelled

    outbox = await _outbox(database)
    for kind in (LIVE_EVENT, LIVE_OUTBOUND):
        (event,) = outbox[kind]
        assert event["type"] == "task.created"
        assert event["projectId"] == project
        assert event["taskId"] == task["id"]
        assert event["actorId"] == owner["user"]["id"]
        assert event["data"] == task

    trail = await client.get(f"/api/v1/tasks/{task['id']}/activity", headers=bearer(owner))
    assert trail.status_code == 200, trail.text
    actions = sorted(entry["action"] for entry in trail.json()["data"])
    expected = ["assigned", "created", "labelled"] if assigned_and_labelled else ["created"]
    assert actions == expected
    async with database.session(write=False) as session:
        links = await session.scalars(
            select(TaskLabel.label_id).where(TaskLabel.task_id == uuid.UUID(task["id"]))
        )
        assert sorted(str(link) for link in links) == sorted(label_ids)
    by_label = await client.get(
        "/api/v1/tasks", params={"label": label_ids[0]} if label_ids else {}, headers=bearer(owner)
    )
    assert [listed["id"] for listed in by_label.json()["data"]] == [task["id"]]


async def test_a_create_rolled_back_leaves_nothing(app: Any, client: Any) -> None:
    """The task, its labels, its trail and its event stand or fall together."""
    database: Database = app.state.services.database
    owner = await register(client)
    owner_id = uuid.UUID(owner["user"]["id"])
    label = await client.post(
        f"/api/v1/projects/{owner_id}/labels",
        json={"name": "Urgent", "color": "#ff0000"},
        headers=bearer(owner),
    )
    label_id = uuid.UUID(label.json()["data"]["id"])
    task_id, now = uuid.uuid4(), utc_now()
    values = {
        "id": task_id,
        "title": "Never",
        "description": "",
        "status": TaskStatus.PENDING,
        "priority": TaskPriority.MEDIUM,
        "due_date": None,
        "created_by_id": owner_id,
        "assignee_id": None,
        "project_id": owner_id,
        "position": "a0",
        "label_ids_text": str(label_id),
        "repeat_every": None,
        "repeat_unit": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    trail = [
        {
            "id": uuid.uuid4(),
            "task_id": task_id,
            "actor_id": owner_id,
            "action": Action.CREATED,
            "field": None,
            "old_value": None,
            "new_value": None,
            "created_at": now,
        }
    ]
    event = EventDraft(
        LiveEventType.TASK_CREATED, owner_id, now, {"type": "task.created", "data": {}}
    )
    live_events = select(OutboxEvent).where(OutboxEvent.type.in_([LIVE_EVENT, LIVE_OUTBOUND]))
    async with database.session(write=False) as session:
        assert (await session.execute(live_events)).all() == []
    async with database.session(write=True) as session:
        created = await TaskRepository(session).insert(
            values, labels=[label_id], trail=trail, event=event
        )
        assert created.row["title"] == "Never"
        assert created.written_along is not database.is_sqlite
        await session.rollback()
    async with database.session(write=False) as session:
        for query in (select(Task), select(TaskLabel), select(TaskActivity), live_events):
            assert (await session.execute(query)).all() == [], query
