"""Two edits of one task at once: the web client sends If-Match, so the later save meets a 412;
it then shows what changed and lets the person keep their changes or take the other ones."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Locator, expect

from tests.serving import Server, bearer, login
from tests.web.conftest import Tab, TabFactory
from tests.web.pages import create_task, register_through_the_form, task_card

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def change_elsewhere(server: Server, email: str, title: str, changes: dict[str, str]) -> None:
    """The same person in another tab (or device): rename the task through the API."""
    auth = login(server, email)
    tasks = httpx.get(f"{server.api}/tasks", headers=bearer(auth)).json()["data"]
    (task,) = [t for t in tasks if t["title"] == title]
    changed = httpx.patch(f"{server.api}/tasks/{task['id']}", json=changes, headers=bearer(auth))
    assert changed.status_code == 200, changed.text


def save_over_a_change_elsewhere(
    tab: Tab,
    server: Server,
    *,
    title: str,
    priority: str,
    mine: tuple[str, str],
    theirs: dict[str, str],
) -> tuple[Locator, Locator]:
    """A new person's task, opened for editing, changed elsewhere meanwhile, then saved: the
    dialog and its conflict notice."""
    page = tab.page
    email = register_through_the_form(tab, "Clash Person")
    create_task(page, title, priority)
    task_card(page, title).get_by_role("button", name=f"Edit {title}").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    dialog.get_by_label(mine[0]).fill(mine[1])
    change_elsewhere(server, email, title, theirs)
    dialog.get_by_role("button", name="Save changes").click()
    return dialog, dialog.get_by_test_id("task-conflict")


def test_a_conflicting_edit_shows_what_changed_and_keeps_mine(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "conflict")
    page = tab.page
    dialog, conflict = save_over_a_change_elsewhere(
        tab,
        web_server,
        title="Original title",
        priority="Medium",
        mine=("Description", "My careful notes"),
        theirs={"title": "Renamed elsewhere"},
    )
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
    dialog, conflict = save_over_a_change_elsewhere(
        tab,
        web_server,
        title="Draft",
        priority="Low",
        mine=("Title", "My draft"),
        theirs={"title": "Their draft", "priority": "high"},
    )
    expect(conflict).to_contain_text("Priority: “low” → “high”")
    conflict.get_by_role("button", name="Use theirs").click()
    expect(dialog.get_by_test_id("task-conflict")).to_have_count(0)
    expect(dialog.get_by_label("Title")).to_have_value("Their draft")
    expect(dialog.get_by_label("Priority")).to_have_value("high")
    dialog.get_by_role("button", name="Cancel").click()
    expect(task_card(tab.page, "Their draft")).to_be_visible()
    assert tab.app_errors() == []
