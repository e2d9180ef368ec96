"""The Postman collection in docs/, run by newman against a real `taskyard serve`: every request's
status and body shape as the collection asserts them."""

from __future__ import annotations

from pathlib import Path

from tests.postman import run_collection
from tests.serving import Server


def test_the_postman_collection_passes(server: Server, tmp_path: Path) -> None:
    run = run_collection(server.base_url, server.admin["user"]["email"], tmp_path)
    executed = [execution["item"]["name"] for execution in run["executions"]]
    assert executed[-2:] == ["Logout", "The token is dead after logout"]  # logout comes last
    assert {"Refresh", "Request an export", "Assign by email", "List users"} <= set(executed)
