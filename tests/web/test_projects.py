"""Shared projects in the web client: members, the board, a viewer's page, the task dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.serving import Server
from tests.web.conftest import Tab, TabFactory
from tests.web.pages import (
    add_member,
    board_column,
    board_titles,
    create_project,
    create_task,
    open_project,
    register_through_the_form,
    show_board,
    task_card,
)

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def two_people(
    server: Server, open_tab: TabFactory, role: str, *, member_hears_live: bool = True
) -> tuple[Tab, Tab]:
    """Olu owns "Launch" and has added Mei with `role`; Mei's tab shows the project.

    `member_hears_live=False`: Mei's event stream can't connect (as while it reconnects), so her
    page knows only what it last read."""
    member = open_tab(server, "member")
    member_email = register_through_the_form(member, "Mei Member")
    owner = open_tab(server, "owner")
    register_through_the_form(owner, "Olu Owner")
    create_project(owner.page, "Launch")
    add_member(owner.page, "Launch", member_email, role)
    if not member_hears_live:
        member.page.route("**/api/v1/events?*", lambda route: route.abort())
    member.page.reload()
    open_project(member.page, "Launch")
    return owner, member


def drag(page: Page, handle: Locator, target: Locator) -> None:
    """A real pointer drag: press, move past the sensor's threshold, move over, release."""
    start = handle.bounding_box()
    end = target.bounding_box()
    assert start is not None
    assert end is not None
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 12, y + 12, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    page.mouse.up()


def pick_up(page: Page, title: str, key: str) -> Locator:
    """Focuses a card's handle and picks it up by keyboard, ready for the arrow keys."""
    handle = page.get_by_role("button", name=f"Move {title}")
    handle.focus()
    page.keyboard.press(key)
    expect(handle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[id^='DndLiveRegion']")).to_contain_text(
        f"“{title}” is over its own place"
    )
    # dnd-kit's keyboard sensor starts listening for arrows in a timer it sets on pick-up; a
    # timer set now runs after it.
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")
    return handle


def test_two_people_share_a_project(web_server: Server, open_tab: TabFactory) -> None:
    owner, member = two_people(web_server, open_tab, "Editor")
    # The personal project comes first in each sidebar.
    links = member.page.get_by_role("navigation", name="Projects").get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.first).to_have_text("Inbox (personal)")
    expect(member.page.get_by_test_id("project-role")).to_have_text("You: Editor")

    create_task(owner.page, "Write the announcement", "High")
    member.page.reload()
    card = task_card(member.page, "Write the announcement")
    expect(card).to_contain_text("Owner: Olu Owner")

    # An editor changes it; the owner sees the change on their next read.
    card.get_by_label("Status of Write the announcement").select_option(label="In progress")
    expect(member.page.get_by_text("Task updated successfully").first).to_be_visible()
    owner.page.reload()
    expect(
        task_card(owner.page, "Write the announcement").get_by_label(
            "Status of Write the announcement"
        )
    ).to_have_value("in-progress")

    # The owner hands the project over and stays on as an admin.
    owner.page.get_by_role("button", name="Members", exact=True).click()
    owner.page.get_by_role("button", name="Make owner: Mei Member").click()
    owner.page.get_by_role("dialog", name="Hand the project over?").get_by_role(
        "button", name="Hand it over"
    ).click()
    expect(owner.page.get_by_text("Project transferred successfully").first).to_be_visible()
    expect(owner.page.get_by_test_id("project-role")).to_have_text("You: Admin")
    member.page.reload()
    expect(member.page.get_by_test_id("project-role")).to_have_text("You: Owner")

    # Removed by the new owner, Olu is refused at once: the project is gone from their view.
    member.page.get_by_role("button", name="Members", exact=True).click()
    member.page.get_by_role("button", name="Remove Olu Owner").click()
    expect(member.page.get_by_test_id("member-row")).to_have_count(1)
    owner.page.reload()
    expect(owner.page.get_by_role("heading", name="Project not found")).to_be_visible()
    expect(owner.page.get_by_role("navigation", name="Projects").get_by_role("link")).to_have_count(
        1
    )
    assert owner.app_errors() == []
    assert member.app_errors() == []


def test_the_board_by_mouse_and_by_keyboard(web_server: Server, open_tab: TabFactory) -> None:
    tab = open_tab(web_server, "board")
    register_through_the_form(tab, "Bo Board")
    page = tab.page
    create_project(page, "Kanban")
    for title in ("First card", "Second card", "Third card"):
        create_task(page, title, "Medium")
    show_board(page)
    expect(board_titles(page, "pending")).to_have_text(["First card", "Second card", "Third card"])

    # By mouse: the first card into In progress.
    first = board_column(page, "pending").get_by_role("button", name="Move First card")
    drag(page, first, board_column(page, "in-progress").get_by_role("list"))
    expect(board_titles(page, "in-progress")).to_have_text(["First card"])
    expect(board_titles(page, "pending")).to_have_text(["Second card", "Third card"])

    # By keyboard: pick the third card up, one place up, drop; then the second one right.
    live = page.locator("[id^='DndLiveRegion']")
    pick_up(page, "Third card", "Space")
    page.keyboard.press("ArrowUp")
    expect(live).to_contain_text("is over “Second card” in Pending")
    page.keyboard.press("Space")
    expect(board_titles(page, "pending")).to_have_text(["Third card", "Second card"])

    pick_up(page, "Second card", "Enter")
    page.keyboard.press("ArrowRight")
    expect(live).to_contain_text("is over the end of the In progress column")
    page.keyboard.press("Enter")
    expect(board_titles(page, "pending")).to_have_text(["Third card"])
    expect(board_titles(page, "in-progress")).to_have_text(["First card", "Second card"])

    # What the board shows is what the server kept.
    page.reload()
    expect(board_titles(page, "pending")).to_have_text(["Third card"])
    expect(board_titles(page, "in-progress")).to_have_count(2)
    expect(board_titles(page, "completed")).to_have_count(0)
    page.get_by_role("navigation", name="Views").get_by_role("link", name="List").click()
    expect(task_card(page, "First card").get_by_label("Status of First card")).to_have_value(
        "in-progress"
    )
    assert tab.app_errors() == []


def test_a_refused_move_goes_back(web_server: Server, open_tab: TabFactory) -> None:
    # With the stream up, the demotion would take the handles away before the drag (test_live).
    owner, member = two_people(web_server, open_tab, "Editor", member_hears_live=False)
    create_task(owner.page, "Contested card", "Low")
    show_board(member.page)
    handle = member.page.get_by_role("button", name="Move Contested card")
    expect(handle).to_be_visible()

    # Demoted while the board is open: the move shows, is refused, and goes back.
    owner.page.get_by_role("button", name="Members", exact=True).click()
    owner.page.get_by_label("Role of Mei Member").select_option(label="Viewer")
    expect(owner.page.get_by_text("Member updated successfully").first).to_be_visible()

    drag(member.page, handle, board_column(member.page, "completed").get_by_role("list"))
    expect(member.page.get_by_test_id("toast").filter(has_text="Couldn't move")).to_be_visible()
    expect(board_titles(member.page, "pending")).to_have_text(["Contested card"])
    expect(board_titles(member.page, "completed")).to_have_count(0)
    # The page learns the new role: no more handles.
    expect(member.page.get_by_role("button", name="Move Contested card")).to_have_count(0)
    assert (403, f"{web_server.base_url}/api/v1/tasks/") in [
        (status, url.rsplit("/", 2)[0] + "/") for status, url in member.refused
    ]


def test_a_viewer_sees_no_edit_controls(web_server: Server, open_tab: TabFactory) -> None:
    owner, viewer = two_people(web_server, open_tab, "Viewer")
    create_task(owner.page, "Read only card", "High")
    viewer.page.reload()
    page = viewer.page
    card = task_card(page, "Read only card")
    expect(card).to_be_visible()
    expect(page.get_by_test_id("project-role")).to_have_text("You: Viewer")
    for absent in ("+ New task", "Edit Read only card", "Delete Read only card", "Labels"):
        expect(page.get_by_role("button", name=absent)).to_have_count(0)
    expect(page.get_by_role("button", name="Project settings")).to_have_count(0)
    expect(card.get_by_role("combobox")).to_have_count(0)

    # The details show, with no form and no comment box.
    card.get_by_role("button", name="Details of Read only card").click()
    dialog = page.get_by_role("dialog", name="Task details")
    expect(dialog).to_contain_text("High")
    expect(dialog.get_by_role("textbox")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Post comment")).to_have_count(0)
    expect(dialog.get_by_test_id("activity")).to_contain_text(["Olu Owner created the task"])
    dialog.get_by_role("button", name="Close").click()

    # The board: no handles. The members: no role to change, nobody to add; leaving is there.
    show_board(page)
    expect(board_titles(page, "pending")).to_have_text(["Read only card"])
    expect(page.get_by_role("button", name="Move Read only card")).to_have_count(0)
    page.get_by_role("button", name="Members", exact=True).click()
    members = page.get_by_role("dialog", name="Members of Launch")
    expect(members.get_by_test_id("member-row")).to_have_count(2)
    expect(members.get_by_role("combobox")).to_have_count(0)
    expect(members.get_by_role("button", name="Add member")).to_have_count(0)
    members.get_by_role("button", name="Leave project").click()
    page.get_by_role("dialog", name="Leave the project?").get_by_role(
        "button", name="Leave project"
    ).click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Projects").get_by_role("link")).to_have_count(1)
    assert viewer.app_errors() == []


def test_labels_comments_activity_and_repeat(web_server: Server, open_tab: TabFactory) -> None:
    owner, member = two_people(web_server, open_tab, "Editor")
    page = owner.page
    page.get_by_role("button", name="Labels").click()
    labels = page.get_by_role("dialog", name="Labels of Launch")
    labels.get_by_label("Label name").fill("Urgent")
    labels.get_by_role("button", name="Add label").click()
    expect(labels.get_by_role("button", name="Delete label Urgent")).to_be_visible()
    labels.get_by_role("button", name="Close").click()

    due = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    create_task(page, "Water the plants", "Medium", due=due)
    task_card(page, "Water the plants").get_by_role("button", name="Edit Water the plants").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    dialog.get_by_role("checkbox", name="Urgent").check()
    dialog.get_by_label("Repeat", exact=True).select_option(label="Every few weeks")
    dialog.get_by_label("Every how many").fill("1")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    card = task_card(page, "Water the plants")
    expect(card).to_contain_text("Urgent")
    expect(card).to_contain_text("Repeats")

    # Completed, a repeating task comes back pending, its due date a week on.
    card.get_by_label("Status of Water the plants").select_option(label="Completed")
    expect(card.get_by_label("Status of Water the plants")).to_have_value("pending")

    # The member comments, mentioning the owner; both see it, and the trail says what happened.
    member.page.reload()
    member_card = task_card(member.page, "Water the plants")
    member_card.get_by_role("button", name="Edit Water the plants").click()
    member_dialog = member.page.get_by_role("dialog", name="Edit task")
    member_dialog.get_by_label("Add a comment").fill("Done for this week")
    member_dialog.get_by_role("button", name="Post comment").click()
    expect(member_dialog.get_by_test_id("comment")).to_contain_text(["Done for this week"])
    expect(member_dialog.get_by_label("Add a comment")).to_have_value("")

    card.get_by_role("button", name="Edit Water the plants").click()
    dialog = page.get_by_role("dialog", name="Edit task")
    expect(dialog.get_by_role("checkbox", name="Urgent")).to_be_checked()
    expect(dialog.get_by_label("Repeat", exact=True)).to_have_value("week")
    expect(dialog.get_by_test_id("comment")).to_contain_text(["Mei Member"])
    trail = dialog.get_by_test_id("activity")
    expect(trail.first).to_contain_text("Mei Member commented")
    for line in (
        "Olu Owner completed it",
        "Olu Owner set its labels to Urgent",
        "Olu Owner created the task",
    ):
        expect(trail.filter(has_text=line)).to_have_count(1)
    # The owner, a project admin, may delete the member's comment.
    dialog.get_by_role("button", name="Delete comment").click()
    expect(dialog.get_by_test_id("comment")).to_have_count(0)
    assert owner.app_errors() == []
    assert member.app_errors() == []
