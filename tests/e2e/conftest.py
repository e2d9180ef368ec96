"""End-to-end fixtures: the real `taskyard serve` process on a free port, per backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.serving import Server, register, running_server
from tests.support import fresh_database


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(f"serve-{request.param}")
    databases = fresh_database(request.param, workdir, request)
    database_url = next(databases)
    try:
        with running_server(database_url, workdir, request.param) as running:
            yield running
    finally:
        next(databases, None)


@pytest.fixture
def user(server: Server) -> dict[str, Any]:
    return register(server)


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api, timeout=10) as client:
        yield client
