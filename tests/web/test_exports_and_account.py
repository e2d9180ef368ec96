"""Exports and the account page: features of the API that the client puts in reach."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from taskyard.exports.service import GAVE_UP
from tests.serving import Server
from tests.web.conftest import TabFactory
from tests.web.pages import create_task, register_through_the_form

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def test_export_the_filtered_tasks_as_csv_and_json(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "export", accept_downloads=True)
    page = tab.page
    register_through_the_form(tab, "Eve Exporter")
    create_task(page, 'Quote "this", then, that', "High", description="commas, and quotes")
    create_task(page, "Low and slow", "Low")

    page.get_by_label("Priority", exact=True).select_option(label="High")
    expect(page.get_by_test_id("task-card")).to_have_count(1)
    page.get_by_role("button", name="Export", exact=True).click()
    download_button = page.get_by_role("button", name="Download 1 task")
    expect(download_button).to_be_visible()
    with page.expect_download() as started:
        download_button.click()
    download = started.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert [row["title"] for row in rows] == ['Quote "this", then, that']
    assert rows[0]["description"] == "commas, and quotes"

    page.get_by_label("Priority", exact=True).select_option(label="All priorities")
    page.get_by_label("Export format").select_option(label="JSON")
    page.get_by_role("button", name="Export", exact=True).click()
    with page.expect_download() as started:
        page.get_by_role("button", name="Download 2 tasks").click()
    exported = json.loads(started.value.path().read_text())
    titles = sorted(task["title"] for task in exported)
    assert titles == ["Low and slow", 'Quote "this", then, that']
    assert tab.app_errors() == []


def test_the_account_page_changes_name_and_notifications(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "account")
    page = tab.page
    email = register_through_the_form(tab, "Nat Notify")
    page.get_by_role("link", name="Account settings: Nat Notify").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_focused()
    expect(page.get_by_text(f"Signed in as {email}.")).to_be_visible()
    notifications = page.get_by_label("Email me about my tasks", exact=False)
    expect(notifications).to_be_checked()

    page.get_by_label("Name", exact=True).fill("N")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Name must be at least 2 characters")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Natalie Notify")
    notifications.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Profile updated").first).to_be_visible()
    expect(page.get_by_role("link", name="Account settings: Natalie Notify")).to_be_visible()

    # It is the server's state: a reload shows it.
    page.reload()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Natalie Notify")
    expect(page.get_by_label("Email me about my tasks", exact=False)).not_to_be_checked()
    assert tab.app_errors() == []


def export_through_the_button(page: Page) -> str:
    """Export the one task shown, wait until it can be downloaded; the export's id."""
    with page.expect_response(
        lambda answer: answer.url.endswith("/api/v1/exports") and answer.request.method == "POST"
    ) as requested:
        page.get_by_role("button", name="Export", exact=True).click()
    expect(page.get_by_role("button", name="Download 1 task")).to_be_visible()
    export_id: str = requested.value.json()["data"]["id"]
    return export_id


def test_the_page_an_export_mail_links_to_downloads_with_the_session(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "export-page", accept_downloads=True)
    page = tab.page
    register_through_the_form(tab, "Mia Mailed")
    create_task(page, "In the mail", "Medium")
    export_id = export_through_the_button(page)

    page.goto(f"{web_server.base_url}/exports/{export_id}")  # as from the mail: a fresh load
    expect(page.get_by_role("heading", name="Your export", level=1)).to_be_visible()
    with page.expect_download() as started:
        page.get_by_role("button", name="Download 1 task (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(started.value.path().read_text(encoding="utf-8-sig"))))
    assert [row["title"] for row in rows] == ["In the mail"]
    assert tab.app_errors() == []


def test_an_export_that_failed_says_why(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "export-failed")
    page = tab.page
    register_through_the_form(tab, "Fay Failed")
    create_task(page, "Never exported", "Medium")
    export_id = export_through_the_button(page)
    # As the worker leaves an export whose every try failed.
    database = web_server.env["TASKYARD_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE exports SET status = 'failed', error = ? WHERE id = ?",
            (GAVE_UP, uuid.UUID(export_id).hex),
        )
    page.goto(f"{web_server.base_url}/exports/{export_id}")
    expect(page.get_by_text(f"The export failed. {GAVE_UP}")).to_be_visible()
    assert tab.app_errors() == []
