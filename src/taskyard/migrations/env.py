from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import taskyard.activity.models
import taskyard.api_tokens.models
import taskyard.auth.models
import taskyard.comments.models
import taskyard.exports.models
import taskyard.idempotency.models
import taskyard.jobs.models
import taskyard.labels.models
import taskyard.projects.models
import taskyard.tasks.models
import taskyard.teams.models
import taskyard.users.models
import taskyard.webhooks.models  # noqa: F401  (each import registers its tables)
from taskyard.db import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_url = context.config.get_main_option("sqlalchemy.url") or ""
if context.is_offline_mode():
    _run_offline(_url)
else:
    asyncio.run(_run_online(_url))
