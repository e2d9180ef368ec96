"""Live updates in the web client: what one person does shows on another's screen without a
reload (the tab's event stream marks the views it changed stale)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.serving import Server
from tests.web.conftest import TabFactory
from tests.web.pages import board_titles, create_task, show_board, task_card
from tests.web.test_projects import two_people

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def test_changes_show_on_the_other_screen_without_a_reload(
    web_server: Server, open_tab: TabFactory
) -> None:
    owner, member = two_people(web_server, open_tab, "Editor")
    show_board(member.page)

    # The owner adds a task: it appears on the member's board.
    create_task(owner.page, "Seen live", "High")
    expect(board_titles(member.page, "pending")).to_have_text(["Seen live"])

    # The owner completes it: the member's board moves it over.
    card = task_card(owner.page, "Seen live")
    card.get_by_label("Status of Seen live").select_option(label="Completed")
    expect(board_titles(member.page, "completed")).to_have_text(["Seen live"])
    expect(board_titles(member.page, "pending")).to_have_count(0)

    # The owner makes the member a viewer: their board loses its handles.
    expect(member.page.get_by_role("button", name="Move Seen live")).to_be_visible()
    owner.page.get_by_role("button", name="Members", exact=True).click()
    owner.page.get_by_label("Role of Mei Member").select_option(label="Viewer")
    expect(member.page.get_by_test_id("project-role")).to_have_text("You: Viewer")
    expect(member.page.get_by_role("button", name="Move Seen live")).to_have_count(0)

    # The owner removes the member: their screen says so without a reload.
    owner.page.get_by_role("button", name="Remove Mei Member").click()
    expect(member.page.get_by_role("heading", name="Project not found")).to_be_visible()
    expect(
        member.page.get_by_role("navigation", name="Projects").get_by_role("link")
    ).to_have_count(1)
    assert owner.app_errors() == []
    assert member.app_errors() == []
