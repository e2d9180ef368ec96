"""The check for suspicious sign-ins in the browser: nobody sees it until the server asks, then
the widget solves the server's challenge in Chromium and the sign-in goes through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.serving import PASSWORD, Server
from tests.web.conftest import TabFactory, start_web_server
from tests.web.pages import log_in_through_the_form, register_through_the_form

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def guarded_server(
    client_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Its own server: the failures below put this address under suspicion for a while."""
    yield from start_web_server(
        tmp_path_factory,
        "web-challenge",
        {"TASKYARD_CHALLENGE_AFTER_FAILURES": "3", "TASKYARD_CHALLENGE_COST": "500"},
    )


def test_after_failed_sign_ins_the_widget_appears_and_lets_the_person_in(
    guarded_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(guarded_server, "challenge")
    page = tab.page
    email = register_through_the_form(tab, "Wary Person")
    page.get_by_role("button", name="Log out").click()
    tab.goto("/login")
    expect(page.get_by_test_id("challenge")).to_have_count(0)  # nobody sees it unasked

    for _ in range(3):
        wrong = httpx.post(
            f"{guarded_server.api}/auth/login", json={"email": email, "password": "not-it-at-all"}
        )
        assert wrong.status_code == 401

    log_in_through_the_form(tab, email)
    expect(page.get_by_text("Complete the check below, then try again.")).to_be_visible()
    widget = page.locator("altcha-widget")
    expect(widget).to_be_visible()
    expect(page.get_by_text("Verified", exact=False)).to_be_visible(timeout=30_000)
    tab.screenshot("challenge-solved")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert tab.app_errors() == []
