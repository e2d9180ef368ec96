"""The shipped migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import asyncio

from alembic import command

from taskyard.migrations import alembic_config, upgrade
from tests.support import in_fresh_loop


def test_models_and_migrations_agree(database_url: str) -> None:
    # Raises if autogenerate would find any difference between models and the migrated schema.
    in_fresh_loop(lambda: asyncio.to_thread(command.check, alembic_config(database_url)))


def test_downgrade_then_upgrade_round_trips(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/roundtrip.db"
    in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
    in_fresh_loop(lambda: asyncio.to_thread(command.downgrade, alembic_config(url), "base"))
    in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
    in_fresh_loop(lambda: asyncio.to_thread(command.check, alembic_config(url)))
