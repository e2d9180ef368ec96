"""Alembic migrations, shipped inside the package so `taskyard migrate` works from any install."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's ini-style interpolation treats % specially (URL-encoded passwords carry it).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations. Runs its own event loop: call it from a thread when one is running."""
    command.upgrade(alembic_config(database_url), revision)
