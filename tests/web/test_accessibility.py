"""axe-core's checks on every screen: labels, names, contrast, landmarks, ARIA use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.serving import Server
from tests.support import service_unavailable
from tests.web.conftest import Tab, TabFactory
from tests.web.pages import (
    add_member,
    create_project,
    create_task,
    log_in_through_the_form,
    register_through_the_form,
    show_board,
    task_card,
)

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


def violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical findings on the page as it is now."""
    if not AXE.is_file():
        service_unavailable(f"axe-core is not installed at {AXE}; `make test` installs it")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP, rightly, doesn't apply.
        page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await window.axe.run(document)).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [violation for violation in found if violation["impact"] in SERIOUS]


def check(tab: Tab, screen: str) -> None:
    assert violations(tab.page) == [], screen


def test_people_screens(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "a11y")
    page = tab.page
    tab.goto("/login")
    expect(page.get_by_role("heading", name="Log in to Taskyard")).to_be_visible()
    check(tab, "login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Enter a valid email address")).to_be_visible()
    check(tab, "login with errors")

    register_through_the_form(tab, "Alex Access")
    check(tab, "empty dashboard")
    create_task(page, "Check the contrast", "High")
    expect(page.get_by_test_id("toast").first).to_be_visible()
    check(tab, "dashboard with a task and a toast")
    page.get_by_role("button", name="+ New task").click()
    expect(page.get_by_role("dialog", name="New task")).to_be_visible()
    check(tab, "task form")
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Assigned to me").click()
    expect(page.get_by_role("heading", name="Assigned to me", level=1)).to_be_visible()
    check(tab, "assigned to me")
    page.get_by_role("link", name="Account settings: Alex Access").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    check(tab, "account")
    tab.goto("/nowhere")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check(tab, "not found")
    assert tab.app_errors() == []


def test_admin_screens(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "a11y-admin")
    page = tab.page
    tab.goto("/login")
    log_in_through_the_form(tab, web_server.admin["user"]["email"])
    for link, heading in (("All tasks", "All tasks"), ("Users", "Users")):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        check(tab, heading)
    page.get_by_role("link", name="Operations").click()
    expect(page.get_by_test_id("metric-Requests per second")).to_be_visible(timeout=15_000)
    check(tab, "operations")
    assert tab.app_errors() == []


def test_project_screens(web_server: Server, open_tab: TabFactory) -> None:
    helper = open_tab(web_server, "a11y-helper")
    helper_email = register_through_the_form(helper, "Pia Peer")
    tab = open_tab(web_server, "a11y-projects")
    page = tab.page
    register_through_the_form(tab, "Paz Projects")
    page.get_by_role("button", name="+ New project").click()
    expect(page.get_by_role("dialog", name="New project")).to_be_visible()
    check(tab, "new project")
    page.keyboard.press("Escape")
    create_project(page, "Accessible")
    check(tab, "empty project")
    add_member(page, "Accessible", helper_email, "Editor")
    page.get_by_role("button", name="Members", exact=True).click()
    expect(page.get_by_test_id("member-row")).to_have_count(2)
    check(tab, "members")
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Labels").click()
    labels = page.get_by_role("dialog", name="Labels of Accessible")
    for name, color in (("Light", "#fde047"), ("Dark", "#1e3a8a")):
        labels.get_by_label("Label name").fill(name)
        labels.get_by_label("Colour").fill(color)
        labels.get_by_role("button", name="Add label").click()
        expect(labels.get_by_role("button", name=f"Delete label {name}")).to_be_visible()
    check(tab, "labels")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Project settings").click()
    expect(page.get_by_role("dialog", name="Project settings")).to_be_visible()
    check(tab, "project settings")
    page.keyboard.press("Escape")

    create_task(page, "Readable board", "High")
    task_card(page, "Readable board").get_by_role("button", name="Edit Readable board").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    dialog.get_by_role("checkbox", name="Light").check()
    dialog.get_by_role("checkbox", name="Dark").check()
    dialog.get_by_label("Repeat", exact=True).select_option("month")
    dialog.get_by_label("Add a comment").fill("Reads well")
    dialog.get_by_role("button", name="Post comment").click()
    expect(dialog.get_by_test_id("comment")).to_have_count(1)
    check(tab, "task dialog with comments and activity")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    expect(task_card(page, "Readable board")).to_contain_text("Light")
    check(tab, "project list with labels")
    show_board(page)
    check(tab, "board")

    helper.page.reload()
    helper.page.get_by_role("link", name="Accessible").click()
    task_card(helper.page, "Readable board").get_by_role(
        "button", name="Edit Readable board"
    ).click()
    expect(helper.page.get_by_test_id("activity").first).to_be_visible()
    check(helper, "a member's task dialog")
    helper.page.keyboard.press("Escape")

    # Made a viewer: the task's details, read-only.
    page.get_by_role("button", name="Members", exact=True).click()
    page.get_by_label("Role of Pia Peer").select_option(label="Viewer")
    expect(page.get_by_text("Member updated successfully").first).to_be_visible()
    helper.page.reload()
    task_card(helper.page, "Readable board").get_by_role(
        "button", name="Details of Readable board"
    ).click()
    expect(helper.page.get_by_role("dialog", name="Task details")).to_contain_text("Light")
    check(helper, "a viewer's task details")
    helper.goto("/projects/00000000-0000-4000-8000-000000000000")
    expect(helper.page.get_by_role("heading", name="Project not found")).to_be_visible()
    check(helper, "project not found")
    assert tab.app_errors() == []


def test_the_checker_finds_what_it_should(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "a11y-control")
    tab.page.set_content(
        "<html lang='en'><title>x</title><main><input type='text'><button></button></main></html>"
    )
    assert {violation["id"] for violation in violations(tab.page)} >= {"label", "button-name"}
