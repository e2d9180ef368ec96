"""Personal API tokens on the account page: made, shown once, used by a script, revoked."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.serving import Server
from tests.web.conftest import TabFactory
from tests.web.pages import register_through_the_form
from tests.web.test_accessibility import check

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def test_a_token_is_made_used_and_revoked(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "tokens")
    register_through_the_form(tab, "Tia Tokens")
    page = tab.page
    page.get_by_role("link", name="Account settings: Tia Tokens").click()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()

    page.get_by_label("Token name").fill("Nightly report")
    page.get_by_role("checkbox", name="Change tasks").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text()
    assert secret.startswith("ty_pat_")
    listed = page.get_by_test_id("api-token")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Nightly report")
    expect(listed).to_contain_text("Read tasks, Change tasks")
    expect(listed).to_contain_text(secret[:12])
    check(tab, "account with a new token")

    # A script uses it within its scopes.
    script = {"Authorization": f"Bearer {secret}"}
    made = httpx.post(f"{web_server.api}/tasks", json={"title": "From cron"}, headers=script)
    assert made.status_code == 201
    assert httpx.get(f"{web_server.api}/auth/me", headers=script).status_code == 403

    # Shown once: gone from the page once dismissed, and after a reload.
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("api-token")).to_contain_text("Nightly report")
    expect(page.get_by_text(secret)).to_have_count(0)

    page.get_by_role("button", name="Revoke Nightly report").click()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()
    assert httpx.get(f"{web_server.api}/tasks", headers=script).status_code == 401
    assert tab.app_errors() == []
