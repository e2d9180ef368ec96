"""Shared fixtures: a migrated database per backend, an app wired to it, and clients.

Every test that takes `database_url` runs on SQLite and, when reachable, on PostgreSQL.
A missing PostgreSQL skips those tests locally and fails them under CI=true.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from private_servers import PrivateRedis
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.app import create_app
from taskyard.db import Database
from tests.support import (
    BROKER_URL,
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    PostgresDatabases,
    SmtpServer,
    broker_problem,
    delete_broker_namespace,
    fresh_database,
    make_settings,
    private,
    redis_problem,
    service_unavailable,
    truncate_all,
    unique_prefix,
)


@pytest.fixture(scope="session")
def postgres() -> PostgresDatabases:
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    problem = databases.reachable()
    if problem:
        service_unavailable(problem)
    return databases


@pytest.fixture(scope="session")
def redis_url() -> str:
    problem = redis_problem(REDIS_URL)
    if problem:
        service_unavailable(problem)
    return REDIS_URL


@pytest.fixture(scope="session")
def broker_url() -> str:
    problem = broker_problem(BROKER_URL)
    if problem:
        service_unavailable(problem)
    return BROKER_URL


@pytest.fixture
def broker_prefix(broker_url: str) -> Iterator[str]:
    """Queues of this test's own on the shared broker, deleted afterwards."""
    prefix = unique_prefix()
    yield prefix
    delete_broker_namespace(broker_url, prefix)


@pytest.fixture
def mail_settings(database_url: str, smtp_server: SmtpServer) -> Any:
    """An app's settings sending its mail to the test's SMTP server."""
    return make_settings(database_url, smtp_url=smtp_server.url)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """For behaviour that is the same whatever the database: the embedded one."""
    yield from fresh_database("sqlite", tmp_path_factory.mktemp("embedded"), request)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path_factory.mktemp(request.param), request)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """For what only PostgreSQL does: a fresh database of this test's own."""
    yield from fresh_database("postgresql", tmp_path, request)


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    application = create_app(make_settings(database_url))
    yield application
    await truncate_all(application.state.services.database)
    await application.state.services.database.dispose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://taskyard.test") as http:
        yield http


@pytest.fixture
async def session(app: Any) -> AsyncIterator[AsyncSession]:
    database: Database = app.state.services.database
    async with database.session(write=True) as db_session:
        yield db_session


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, to stop, freeze, snapshot or kill."""
    server = private(lambda: PrivateRedis(tmp_path))
    server.start()
    yield server
    server.stop()
