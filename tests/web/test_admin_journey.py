"""What only admins see and do in the web client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from private_servers import PrivatePrometheus

from tests.serving import Server
from tests.support import private
from tests.web.conftest import Tab, TabFactory, start_web_server
from tests.web.pages import (
    create_task,
    log_in_through_the_form,
    register_through_the_form,
    task_card,
)

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def test_an_admin_deactivates_a_user_who_is_locked_out_then_let_back_in(
    web_server: Server, open_tab: TabFactory
) -> None:
    member = open_tab(web_server, "member")
    member_email = register_through_the_form(member, "Morgan Member")
    create_task(member.page, "Morgan's own task", "Low")
    member.page.get_by_role("link", name="Assigned to me").click()
    expect(member.page.get_by_role("heading", name="Assigned to me", level=1)).to_be_focused()

    admin = open_tab(web_server, "admin", viewport={"width": 1280, "height": 900})
    page = admin.page
    admin.goto("/login")
    log_in_through_the_form(admin, web_server.admin["user"]["email"])
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    # Every task, narrowed to one owner.
    page.get_by_role("link", name="All tasks").click()
    page.get_by_label("Owner").select_option(label=f"Morgan Member ({member_email})")
    expect(page.get_by_test_id("task-card")).to_have_count(1)
    expect(task_card(page, "Morgan's own task")).to_contain_text("Owner: Morgan Member")

    # From anyone's row on the Users page to their tasks.
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Search users").fill(member_email)
    row = page.get_by_test_id("user-row").filter(has_text=member_email)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=f"Tasks of {member_email}").click()
    expect(page.get_by_role("heading", name="All tasks", level=1)).to_be_visible()
    expect(page.get_by_test_id("task-card")).to_have_count(1)
    chosen = page.get_by_label("Owner").locator("option:checked")
    expect(chosen).to_have_text(f"Morgan Member ({member_email})")

    # Deactivate the member.
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Search users").fill(member_email)
    expect(row).to_have_count(1)
    active = row.get_by_label(f"{member_email} is active")
    active.click()
    expect(active).not_to_be_checked()
    expect(page.get_by_text("Morgan Member deactivated")).to_be_visible()
    expect(row.get_by_text("Deactivated")).to_be_visible()

    # The last admin can't step down, and the page says why.
    admin_email = web_server.admin["user"]["email"]
    page.get_by_label("Search users").fill(admin_email)
    own_row = page.get_by_test_id("user-row").filter(has_text=admin_email)
    own_row.get_by_label(f"Role of {admin_email}").select_option(label="User")
    expect(
        page.get_by_role("alert").filter(
            has_text="The last active admin cannot be demoted, deactivated or deleted"
        )
    ).to_be_visible()
    expect(own_row.get_by_label(f"Role of {admin_email}")).to_have_value("admin")
    admin.screenshot("users")

    # The member's very next request ends their session: back to the login page.
    member.page.get_by_label("Status", exact=True).select_option(label="Completed")
    expect(member.page).to_have_url(f"{web_server.base_url}/login")
    expect(member.page.get_by_text("Your session has ended")).to_be_visible()
    log_in_through_the_form(member, member_email)
    refused = member.page.get_by_role("alert").filter(has_text="Account is deactivated")
    expect(refused).to_be_visible()

    # Reactivated, they log in and land where they were.
    page.get_by_label("Search users").fill(member_email)
    active.click()
    expect(active).to_be_checked()
    expect(page.get_by_text("Morgan Member reactivated")).to_be_visible()
    log_in_through_the_form(member, member_email)
    expect(member.page).to_have_url(f"{web_server.base_url}/assigned?status=completed")
    expect(member.page.get_by_role("heading", name="Assigned to me", level=1)).to_be_visible()

    assert admin.app_errors() == []
    assert member.app_errors() == []


def open_operations_panel(open_tab: TabFactory, server: Server, label: str) -> Tab:
    """The server's admin, signed in through the form, on the Operations page."""
    admin = open_tab(server, label, viewport={"width": 1280, "height": 900})
    admin.goto("/login")
    log_in_through_the_form(admin, server.admin["user"]["email"])
    admin.page.get_by_role("link", name="Operations").click()
    return admin


def test_the_operations_panel_shows_live_traffic_and_components(
    web_server: Server, open_tab: TabFactory
) -> None:
    admin = open_operations_panel(open_tab, web_server, "ops")
    page = admin.page
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
    expect(page.get_by_test_id("component-database")).to_contain_text("up")
    expect(page.get_by_test_id("metric-Requests per second")).to_have_text(
        re.compile(r"^\d+\.\d$"), timeout=15_000
    )
    expect(page.get_by_test_id("metric-Error rate")).to_have_text("0.00 %")
    expect(page.get_by_role("img", name=re.compile("^Requests per second over"))).to_be_visible()
    admin.screenshot("operations")
    assert admin.app_errors() == []


def test_people_who_are_not_admins_never_see_admin_pages(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "not-admin")
    register_through_the_form(tab, "Nora Normal")
    for link in ("All tasks", "Users", "Operations"):
        expect(tab.page.get_by_role("link", name=link)).to_have_count(0)
    tab.goto("/admin/users")
    expect(tab.page).to_have_url(f"{tab.base_url}/")
    assert tab.app_errors() == []


@pytest.fixture(scope="module")
def cluster_server(
    client_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose panel reads a real Prometheus, which scrapes that server."""
    prometheus = private(lambda: PrivatePrometheus(tmp_path_factory.mktemp("prometheus")))
    for server in start_web_server(
        tmp_path_factory, "web-cluster", {"TASKYARD_PROMETHEUS_URL": prometheus.url}
    ):
        prometheus.scrape([server.base_url.removeprefix("http://")])
        try:
            yield server
        finally:
            prometheus.stop()


def test_with_prometheus_the_panel_shows_every_instance_and_the_alerts(
    cluster_server: Server, open_tab: TabFactory
) -> None:
    admin = open_operations_panel(open_tab, cluster_server, "ops-cluster")
    page = admin.page
    expect(
        page.get_by_text("Live from Prometheus, across the 1 instance it scrapes")
    ).to_be_visible(timeout=15_000)
    instance = cluster_server.base_url.removeprefix("http://")
    expect(page.get_by_test_id(f"instance-{instance}")).to_contain_text("ready", timeout=15_000)
    expect(page.get_by_test_id("metric-Requests per second")).to_have_text(
        re.compile(r"^\d+\.\d$"), timeout=20_000
    )
    expect(page.get_by_test_id("alerts")).to_have_text("None firing.")
    expect(page.get_by_test_id("component-database")).to_contain_text("up")
    admin.screenshot("operations-cluster")
    assert admin.app_errors() == []
