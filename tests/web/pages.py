"""What the browser tests do on the web client's pages, written once."""

from __future__ import annotations

import uuid
from datetime import datetime

from playwright.sync_api import Locator, Page, expect

from tests.serving import PASSWORD
from tests.web.conftest import Tab


def task_card(page: Page, title: str) -> Locator:
    return page.get_by_test_id("task-card").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


def create_task(
    page: Page, title: str, priority: str, due: datetime | None = None, description: str = ""
) -> None:
    page.get_by_role("button", name="+ New task").click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Description").fill(description)
    dialog.get_by_label("Priority").select_option(label=priority)
    if due is not None:
        dialog.get_by_label("Due date").fill(due.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_role("button", name="Create task").click()
    expect(dialog).to_be_hidden()
    expect(task_card(page, title)).to_be_visible()


def register_through_the_form(tab: Tab, name: str, email: str | None = None) -> str:
    """Signs a new person up on the register page; returns their email, fresh unless given."""
    email = email or f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    tab.goto("/register")
    page = tab.page
    expect(page.get_by_role("heading", name="Create your Taskyard account")).to_be_focused()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    return email


def log_in_through_the_form(tab: Tab, email: str, password: str = PASSWORD) -> None:
    page = tab.page
    expect(page.get_by_role("heading", name="Log in to Taskyard")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def create_project(page: Page, name: str) -> None:
    """Starts a project from the sidebar and lands on its page."""
    page.get_by_role("navigation", name="Projects").get_by_role(
        "button", name="+ New project"
    ).click()
    dialog = page.get_by_role("dialog", name="New project")
    dialog.get_by_label("Project name").fill(name)
    dialog.get_by_role("button", name="Create project").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def open_project(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Projects").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def add_member(page: Page, project: str, email: str, role: str) -> None:
    """Adds someone through the members dialog of the project on screen, and closes it."""
    page.get_by_role("button", name="Members", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Members of {project}")
    dialog.get_by_label("Their email").fill(email)
    dialog.get_by_label("Role", exact=True).select_option(label=role)
    dialog.get_by_role("button", name="Add member").click()
    expect(dialog.get_by_test_id("member-row").filter(has_text=email)).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def show_board(page: Page) -> None:
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Board").click()
    expect(page.get_by_test_id("kanban")).to_be_visible()


def board_column(page: Page, status: str) -> Locator:
    """A board column by its status: pending, in-progress or completed."""
    return page.get_by_test_id(f"column-{status}")


def board_titles(page: Page, status: str) -> Locator:
    return board_column(page, status).get_by_test_id("board-card").get_by_role("heading")
