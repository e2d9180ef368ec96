"""Two edits of one task at once: the web client sends If-Match, so the later save meets a 412;
it then shows what changed and lets the person keep their changes or take the other ones."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.serving import Server, bearer, login
from tests.web.conftest import TabFactory
from tests.web.pages import create_task, register_through_the_form, task_card


def change_elsewhere(server: Server, email: str, title: str, changes: dict[str, str]) -> None:
    """The same person in another tab (or device): rename the task through the API."""
    auth = login(server, email)
    tasks = httpx.get(f"{server.api}/tasks", headers=bearer(auth)).json()["data"]
    (task,) = [t for t in tasks if t["title"] == title]
    changed = httpx.patch(f"{server.api}/tasks/{task['id']}", json=changes, headers=bearer(auth))
    assert changed.status_code == 200, changed.text


def test_a_conflicting_edit_shows_what_changed_and_keeps_mine(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "conflict")
    page = tab.page
    email = register_through_the_form(tab, "Clash Person")
    create_task(page, "Original title", "Medium")

    task_card(page, "Original title").get_by_role("button", name="Edit Original title").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    dialog.get_by_label("Description").fill("My careful notes")
    change_elsewhere(web_server, email, "Original title", {"title": "Renamed elsewhere"})
    dialog.get_by_role("button", name="Save changes").click()

    conflict = dialog.get_by_test_id("task-conflict")
    expect(conflict).to_contain_text("Someone changed this task while you were editing it.")
    expect(conflict).to_contain_text("Title: “Original title” → “Renamed elsewhere”")
    tab.screenshot("conflict")
    conflict.get_by_role("button", name="Keep my changes").click()
    expect(dialog).to_be_hidden()
    card = task_card(page, "Renamed elsewhere")
    expect(card).to_contain_text("My careful notes")
    assert tab.app_errors() == []


def test_use_theirs_reloads_the_form_with_the_current_task(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "conflict-theirs")
    page = tab.page
    email = register_through_the_form(tab, "Yield Person")
    create_task(page, "Draft", "Low")

    task_card(page, "Draft").get_by_role("button", name="Edit Draft").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    dialog.get_by_label("Title").fill("My draft")
    change_elsewhere(web_server, email, "Draft", {"title": "Their draft", "priority": "high"})
    dialog.get_by_role("button", name="Save changes").click()
    conflict = dialog.get_by_test_id("task-conflict")
    expect(conflict).to_contain_text("Priority: “low” → “high”")
    conflict.get_by_role("button", name="Use theirs").click()
    expect(dialog.get_by_test_id("task-conflict")).to_have_count(0)
    expect(dialog.get_by_label("Title")).to_have_value("Their draft")
    expect(dialog.get_by_label("Priority")).to_have_value("high")
    dialog.get_by_role("button", name="Cancel").click()
    expect(task_card(page, "Their draft")).to_be_visible()
    assert tab.app_errors() == []
