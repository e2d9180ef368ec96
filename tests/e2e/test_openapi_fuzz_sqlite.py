"""The OpenAPI document holds on SQLite (`openapi_fuzzing.py`)."""

from __future__ import annotations

import pytest

from tests.e2e.openapi_fuzzing import fuzz_as_a_person_then_as_an_admin, fuzzed_server_on
from tests.serving import Server

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

fuzzed_server = fuzzed_server_on("sqlite")


def test_the_document_holds_for_a_person_then_for_an_admin(fuzzed_server: Server) -> None:
    fuzz_as_a_person_then_as_an_admin(fuzzed_server)
