"""End-to-end fixtures: the real `taskyard serve` process on a free port, per backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.serving import Server, register, served_backend, served_split


# The split services behind their gateway are a whole deployment: the slow tier.
@pytest.fixture(
    scope="session", params=["sqlite", "postgresql", pytest.param("split", marks=pytest.mark.slow)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The contract runs against the monolith on each backend, and against the split services
    through their gateway."""
    if request.param == "split":
        yield from served_split(request, tmp_path_factory.mktemp("serve-split"))
    else:
        yield from served_backend(request, tmp_path_factory, "serve")


@pytest.fixture
def user(server: Server) -> dict[str, Any]:
    return register(server)


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api, timeout=10) as client:
        yield client
