"""A person's whole day with the web client, in a real Chromium against `taskyard serve`."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.serving import PASSWORD, Server
from tests.web.conftest import TabFactory
from tests.web.pages import (
    create_task,
    log_in_through_the_form,
    register_through_the_form,
    task_card,
)

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

# The README's picture; `TASKYARD_UPDATE_DOCS_SCREENSHOT=1 make test` retakes it.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


def test_register_create_filter_edit_complete_delete_logout_login(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "journey", viewport={"width": 1280, "height": 900})
    page = tab.page

    # A first visit asks for a login, and nothing is refused on the way there.
    tab.goto("/")
    expect(page).to_have_url(f"{web_server.base_url}/login")
    page.get_by_role("link", name="Create an account").click()
    email = register_through_the_form(tab, "Jo Journey")
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_have_count(0)  # not an admin

    # The form checks what the server checks before anything is sent.
    page.get_by_role("button", name="+ New task").click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Title").fill("  ab ")
    dialog.get_by_role("button", name="Create task").click()
    expect(dialog.get_by_text("Title must be at least 3 characters")).to_be_visible()
    expect(dialog.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    in_two_days = datetime.now() + timedelta(days=2, hours=1)
    create_task(page, "Write the quarterly report", "High", description="Numbers, then words")
    create_task(page, "Buy milk", "Low")
    create_task(page, "Plan the sprint", "Medium", due=in_two_days)
    created = page.get_by_role("status").get_by_text("Task created successfully")
    expect(created.first).to_be_visible()
    expect(page.get_by_test_id("stat-total")).to_have_text("3")
    expect(page.get_by_test_id("stat-priority-high")).to_have_text("1")
    expect(task_card(page, "Plan the sprint").get_by_text("Due in 2 days")).to_be_visible()

    # Filter and search go to the server and into the address bar.
    page.get_by_label("Priority", exact=True).select_option(label="High")
    expect(page.get_by_test_id("task-card")).to_have_count(1)
    expect(task_card(page, "Write the quarterly report")).to_be_visible()
    expect(page).to_have_url(f"{web_server.base_url}/?priority=high")
    page.get_by_label("Priority", exact=True).select_option(label="All priorities")
    page.get_by_label("Search").fill("milk")
    expect(page.get_by_test_id("task-card")).to_have_count(1)
    expect(task_card(page, "Buy milk")).to_be_visible()
    page.get_by_label("Search").fill("")
    expect(page.get_by_test_id("task-card")).to_have_count(3)
    page.get_by_label("Sort").select_option(value="title")
    expect(page.get_by_test_id("task-card").first).to_contain_text("Buy milk")

    # Edit.
    task_card(page, "Buy milk").get_by_role("button", name="Edit Buy milk").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    expect(dialog.get_by_label("Title")).to_have_value("Buy milk")
    dialog.get_by_label("Title").fill("Buy oat milk")
    dialog.get_by_role("button", name="Save changes").click()
    expect(task_card(page, "Buy oat milk")).to_be_visible()
    expect(page.get_by_text("Task updated successfully").first).to_be_visible()

    # Complete with the quick status control; the stats follow.
    task_card(page, "Write the quarterly report").get_by_label(
        "Status of Write the quarterly report"
    ).select_option(label="Completed")
    expect(page.get_by_test_id("stat-completed")).to_have_text("1")
    expect(page.get_by_test_id("stat-pending")).to_have_text("2")

    page.get_by_label("Status", exact=True).select_option(label="Completed")
    expect(page.get_by_test_id("task-card")).to_have_count(1)
    page.get_by_label("Status", exact=True).select_option(label="All statuses")
    expect(page.get_by_test_id("task-card")).to_have_count(3)
    page.get_by_label("Sort").select_option(label="Newest first")
    expect(page.get_by_test_id("task-card").first).to_contain_text("Plan the sprint")

    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=10_000)  # a tidy picture
    page.evaluate("window.scrollTo(0, 0)")
    screenshot = tab.screenshot("dashboard", full_page=False)
    if os.environ.get("TASKYARD_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(screenshot, DOCS_SCREENSHOT)

    # Delete, after saying yes.
    task_card(page, "Buy oat milk").get_by_role("button", name="Delete Buy oat milk").click()
    confirm = page.get_by_role("dialog", name="Delete task?")
    expect(confirm).to_contain_text("Buy oat milk")
    confirm.get_by_role("button", name="Delete").click()
    expect(task_card(page, "Buy oat milk")).to_have_count(0)
    expect(page.get_by_test_id("stat-total")).to_have_text("2")

    # A reload keeps the session: the HttpOnly cookie buys a new access token.
    page.reload()
    expect(page.get_by_test_id("stat-total")).to_have_text("2")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    refresh_cookie = cookies["taskyard_refresh"]
    assert refresh_cookie["httpOnly"] is True
    assert refresh_cookie["sameSite"] == "Strict"
    assert refresh_cookie["path"] == "/api/v1/auth"
    assert page.evaluate("document.cookie") == ""  # script can't see it

    # Log out, and the cookie goes with the session.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{web_server.base_url}/login")
    assert "taskyard_refresh" not in {cookie["name"] for cookie in page.context.cookies()}
    page.goto(f"{web_server.base_url}/")
    expect(page).to_have_url(f"{web_server.base_url}/login")

    log_in_through_the_form(tab, email, "wrong-password")
    expect(page.get_by_role("alert").filter(has_text="Invalid credentials")).to_be_visible()
    log_in_through_the_form(tab, email)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_test_id("task-card")).to_have_count(2)
    expect(page.get_by_test_id("stat-completed")).to_have_text("1")

    assert tab.app_errors() == []
    # The one refusal of the whole journey was the wrong password.
    assert [status for status, _ in tab.refused] == [401], tab.refused


def test_field_errors_from_the_server_land_on_their_fields(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "server-errors")
    page = tab.page
    email = register_through_the_form(tab, "First Owner")
    page.get_by_role("button", name="Log out").click()

    tab.goto("/register")
    page.get_by_label("Name").fill("Second Comer")
    page.get_by_label("Email").fill(email.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert").filter(has_text="already")).to_be_visible()

    # Assigning to nobody: the server's field error is shown under the field.
    tab.goto("/login")
    log_in_through_the_form(tab, email)
    page.get_by_role("button", name="+ New task").click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Title").fill("For a ghost")
    dialog.get_by_label("Assign to (email)").fill("nobody-here@example.com")
    dialog.get_by_role("button", name="Create task").click()
    field_error = dialog.locator("#task-assignee-error")
    expect(field_error).to_be_visible()
    expect(dialog.get_by_label("Assign to (email)")).to_have_attribute("aria-invalid", "true")
    assert tab.app_errors() == []


def test_the_dashboard_fits_a_phone(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(
        web_server, "phone", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = tab.page
    register_through_the_form(tab, "Pat Phone")
    create_task(page, "Call the plumber about the leaking kitchen tap", "High")
    expect(page.get_by_test_id("stat-total")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tab.screenshot("dashboard")
    assert tab.app_errors() == []


def test_keyboard_only_creation_and_focus_return(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "keyboard")
    page = tab.page
    register_through_the_form(tab, "Kim Keys")
    new_task = page.get_by_role("button", name="+ New task")
    new_task.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New task")
    expect(dialog.get_by_label("Title")).to_be_focused()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")  # submits the form
    expect(task_card(page, "Typed without a mouse")).to_be_visible()
    # Escape closes a dialog and focus goes back where it came from.
    new_task.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(new_task).to_be_focused()
    assert tab.app_errors() == []
