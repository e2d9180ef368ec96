"""An access token that runs out mid-session is renewed without the person noticing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Response, expect

from tests.serving import Server
from tests.web.conftest import TabFactory, start_web_server
from tests.web.pages import create_task, register_through_the_form, task_card

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

ACCESS_TOKEN_SECONDS = 5


@pytest.fixture(scope="module")
def short_token_server(
    client_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from start_web_server(
        tmp_path_factory,
        "short-tokens",
        {"TASKYARD_ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_SECONDS)},
    )


def wait_until_refused(server: Server, token: str) -> None:
    """Until the server itself says the token has expired."""
    deadline = time.monotonic() + ACCESS_TOKEN_SECONDS + 10
    while True:
        answer = httpx.get(f"{server.api}/auth/me", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code == 401:
            return
        assert time.monotonic() < deadline, "the access token never expired"
        time.sleep(0.2)


def test_an_expired_access_token_is_refreshed_and_the_request_retried(
    short_token_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(short_token_server, "refresh")
    page = tab.page
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/register")) as registered:
        register_through_the_form(tab, "Sam Silent")
    first_token = registered.value.json()["data"]["token"]
    create_task(page, "Survives the expiry", "Medium")
    wait_until_refused(short_token_server, first_token)

    refreshes: list[Response] = []
    page.on("response", lambda r: refreshes.append(r) if r.url.endswith("/auth/refresh") else None)
    page.get_by_role("link", name="Assigned to me").click()
    expect(page.get_by_text("Nobody has assigned you a task yet.")).to_be_visible()
    expect(page).to_have_url(f"{short_token_server.base_url}/assigned")

    assert [r.status for r in refreshes] == [200]
    assert refreshes[0].json()["data"]["token"] != first_token
    # The one refusal was the expired token, answered by the refresh and a retry.
    [(status, url)] = tab.refused
    assert status == 401
    assert "scope=assigned" in url

    page.get_by_role("link", name="My tasks").click()
    expect(task_card(page, "Survives the expiry")).to_be_visible()
    assert tab.app_errors() == []
