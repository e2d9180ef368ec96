"""The shipped migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import taskyard.activity.models
import taskyard.api_tokens.models
import taskyard.comments.models
import taskyard.exports.models
import taskyard.idempotency.models
import taskyard.jobs.models
import taskyard.labels.models
import taskyard.projects.models
import taskyard.tasks.models
import taskyard.webhooks.models  # noqa: F401  (each import registers its tables)
from taskyard.db import Base
from taskyard.migrations import alembic_config, upgrade
from tests.support import in_fresh_loop


async def schema_state(database_url: str) -> tuple[str | None, list[Any]]:
    """The revision the database is at, and what autogenerate finds between it and the models."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:

            def inspect(sync_connection: Any) -> tuple[str | None, list[Any]]:
                context = MigrationContext.configure(
                    sync_connection, opts={"compare_type": True, "render_as_batch": True}
                )
                return context.get_current_revision(), compare_metadata(context, Base.metadata)

            return await connection.run_sync(inspect)
    finally:
        await engine.dispose()


def head(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_models_and_migrations_agree(database_url: str) -> None:
    revision, differences = in_fresh_loop(lambda: schema_state(database_url))
    assert revision == head(database_url)
    assert differences == []


def test_a_schema_that_differs_from_the_models_is_noticed(tmp_path: object) -> None:
    """The check above can fail: drop one index the models declare, and it is found."""
    url = f"sqlite+aiosqlite:///{tmp_path}/drifted.db"
    in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))

    async def drop_an_index() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP INDEX ix_revoked_sessions_until"))
        await engine.dispose()

    in_fresh_loop(drop_an_index)
    _revision, differences = in_fresh_loop(lambda: schema_state(url))
    assert [difference[0] for difference in differences] == ["add_index"]


def test_downgrade_then_upgrade_round_trips(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/roundtrip.db"
    in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
    in_fresh_loop(lambda: asyncio.to_thread(command.downgrade, alembic_config(url), "base"))
    revision, _ = in_fresh_loop(lambda: schema_state(url))
    assert revision is None
    in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
    revision, differences = in_fresh_loop(lambda: schema_state(url))
    assert revision == head(url)
    assert differences == []


def test_earlier_accounts_get_a_personal_project_holding_their_tasks(tmp_path: object) -> None:
    """Migration 0012 gives every account its personal project (its own id) and puts its tasks
    there; 0013 gives them board positions in the order they were made."""
    url = f"sqlite+aiosqlite:///{tmp_path}/earlier.db"
    in_fresh_loop(lambda: asyncio.to_thread(command.upgrade, alembic_config(url), "0011"))
    person = "0f8fad5bd9cb469fa16570867728950e"
    tasks = ["1f8fad5bd9cb469fa16570867728950e", "2f8fad5bd9cb469fa16570867728950e"]

    async def run(statements: list[str]) -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                return [(await connection.execute(text(sql))).all() for sql in statements]
        finally:
            await engine.dispose()

    made = "'2026-01-01 10:00:00'"
    rows = [
        "INSERT INTO users (id, name, email, password_hash, role, is_active, created_at, "
        f"updated_at, notifications) VALUES ('{person}', 'Early', 'early@example.com', 'x', "
        f"'user', 1, {made}, {made}, 1)",
        *(
            "INSERT INTO tasks (id, title, description, status, priority, created_by_id, "
            f"created_at, updated_at, version) VALUES ('{task}', 'Old {n}', '', 'pending', "
            f"'medium', '{person}', '2026-01-0{n + 2} 10:00:00', {made}, 1)"
            for n, task in enumerate(tasks)
        ),
    ]

    async def insert() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            for sql in rows:
                await connection.execute(text(sql))
        await engine.dispose()

    in_fresh_loop(insert)
    in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
    projects, members, placed = in_fresh_loop(
        lambda: run(
            [
                "SELECT id, name, is_inbox FROM projects",
                "SELECT project_id, user_id, role FROM project_members",
                "SELECT id, project_id, position FROM tasks ORDER BY created_at",
            ]
        )
    )
    assert [tuple(row) for row in projects] == [(person, "Inbox", 1)]
    assert [tuple(row) for row in members] == [(person, person, "owner")]
    assert [(row[0], row[1]) for row in placed] == [(task, person) for task in tasks]
    assert placed[0][2] < placed[1][2]  # the older first on the board
