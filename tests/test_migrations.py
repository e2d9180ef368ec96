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

import taskyard.exports.models
import taskyard.idempotency.models
import taskyard.jobs.models
import taskyard.tasks.models  # noqa: F401  (each import registers its tables)
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
