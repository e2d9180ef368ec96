"""The problems each command checks for at start, found against real servers: one line each,
and permanent only when waiting can't fix them."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.engine import make_url

from taskyard.config import async_database_url
from taskyard.startup_checks import broker_problem, database_problem, redis_problem
from tests.support import PostgresDatabases, any_free_port


def test_the_usual_url_forms_name_the_async_drivers() -> None:
    assert async_database_url("postgresql://u:p@db:5432/t") == "postgresql+asyncpg://u:p@db:5432/t"
    assert async_database_url("postgres://u@db/t") == "postgresql+asyncpg://u@db/t"
    assert async_database_url("sqlite:///data/t.db") == "sqlite+aiosqlite:///data/t.db"
    assert async_database_url("postgresql+asyncpg://db/t") == "postgresql+asyncpg://db/t"
    for wrong in ("mysql://u:secret@db/t", "postgresql", "db.example.com:5432"):
        with pytest.raises(ValueError, match="a database URL looks like") as refused:
            async_database_url(wrong)
        assert "secret" not in str(refused.value)  # the password is never echoed


async def test_database_problems(postgres: PostgresDatabases) -> None:
    admin = make_url(postgres.admin_url)
    missing = admin.set(database=f"missing_{uuid.uuid4().hex[:8]}")
    problem = await database_problem(missing.render_as_string(hide_password=False))
    assert problem is not None
    assert problem.permanent
    assert "does not exist" in problem.message
    assert "createdb" in problem.message

    stranger = admin.set(username=f"stranger_{uuid.uuid4().hex[:8]}")
    problem = await database_problem(stranger.render_as_string(hide_password=False))
    assert problem is not None
    assert problem.permanent
    assert "createuser" in problem.message

    port = any_free_port()
    nobody = admin.set(host="127.0.0.1", port=port)
    problem = await database_problem(nobody.render_as_string(hide_password=False))
    assert problem is not None
    assert not problem.permanent
    assert f"127.0.0.1:{port}" in problem.message
    assert "connection refused" in problem.message

    assert await database_problem(admin.render_as_string(hide_password=False)) is None


async def test_redis_problems(redis_url: str) -> None:
    parts = urlsplit(redis_url)
    no_such_database = urlunsplit(parts._replace(path="/99"))
    problem = await redis_problem(no_such_database)
    assert problem is not None
    assert problem.permanent
    assert "no database 99" in problem.message

    port = any_free_port()
    problem = await redis_problem(f"redis://127.0.0.1:{port}/0")
    assert problem is not None
    assert not problem.permanent
    assert "connection refused" in problem.message

    assert await redis_problem(redis_url) is None


async def test_broker_problems(broker_url: str) -> None:
    parts = urlsplit(broker_url)
    host = f"{parts.hostname}:{parts.port or 5672}"
    problem = await broker_problem(f"amqp://guest:not-the-password@{host}/")
    assert problem is not None
    assert problem.permanent
    assert "ACCESS_REFUSED" in problem.message
    assert "not-the-password" not in str(problem)

    port = any_free_port()
    problem = await broker_problem(f"amqp://guest:guest@127.0.0.1:{port}/")
    assert problem is not None
    assert not problem.permanent

    assert await broker_problem(broker_url) is None
