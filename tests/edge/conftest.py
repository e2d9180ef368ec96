from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import fresh_database


@pytest.fixture(scope="session")
def sqlite_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The edge behaves the same whatever the database; these tests use the embedded one."""
    yield from fresh_database("sqlite", tmp_path_factory.mktemp("edge"), request)
