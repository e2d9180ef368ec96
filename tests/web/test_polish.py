"""The client's finish: toasts that cover nothing and go by themselves, no focus ring the keyboard
didn't ask for, one-line stats cards and checkbox rows, and Next by the API's cursor."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.serving import PASSWORD, Server
from tests.web.conftest import TabFactory
from tests.web.pages import create_task, register_through_the_form

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


def _overlaps(page: Page, first: str, second: str) -> bool:
    boxes = [page.locator(selector).first.bounding_box() for selector in (first, second)]
    a, b = boxes
    assert a is not None
    assert b is not None
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_toasts_merge_cover_no_control_and_go_by_themselves(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "toasts", **PHONE)
    page = tab.page
    register_through_the_form(tab, "Tess Toast")
    for title in ("First", "Second", "Third", "Fourth"):
        create_task(page, title, "Medium")
    toasts = page.get_by_test_id("toast")
    expect(toasts).to_have_count(1)  # four alike made one, counted
    expect(toasts.first).to_contain_text("\N{MULTIPLICATION SIGN}4")
    assert not _overlaps(page, "[data-testid=toast]", "text=+ New task")
    for card_button in ("Edit", "Delete"):
        assert not _overlaps(page, "[data-testid=toast]", f"role=button[name=/^{card_button}/]")
    tab.screenshot("phone-with-a-toast")
    expect(toasts).to_have_count(0, timeout=10_000)
    assert tab.app_errors() == []


def test_a_moved_heading_focus_draws_no_ring_and_the_cards_keep_one_line(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "desktop", viewport={"width": 1280, "height": 900})
    page = tab.page
    register_through_the_form(tab, "Dana Desktop")
    create_task(page, "Plan the week", "Medium")
    heading = page.get_by_role("heading", name="Dashboard", level=1)
    page.get_by_role("link", name="Assigned to me").click()
    assigned = page.get_by_role("heading", name="Assigned to me", level=1)
    expect(assigned).to_be_focused()  # still moved, for screen readers
    ring = assigned.evaluate(
        "node => [getComputedStyle(node).boxShadow, getComputedStyle(node).outlineStyle]"
    )
    assert ring == ["none", "none"]
    page.get_by_role("link", name="My tasks").click()
    expect(heading).to_be_focused()
    heights = page.locator(".stat-card").evaluate_all(
        "cards => cards.map(card => card.getBoundingClientRect().height)"
    )
    assert len(set(heights)) == 1, heights  # "Medium priority" no taller than the rest
    tab.screenshot("dashboard")

    page.get_by_role("link", name="Account settings: Dana Desktop").click()
    checkbox = page.get_by_label("Email me about my tasks", exact=False).bounding_box()
    label = page.get_by_text("Email me about my tasks", exact=False).bounding_box()
    assert checkbox is not None
    assert label is not None
    assert checkbox["x"] < label["x"]  # beside its label, not above it
    assert abs(checkbox["y"] - label["y"]) < label["height"]
    tab.screenshot("account")
    assert tab.app_errors() == []


def test_next_follows_the_cursor_and_still_says_where_you_are(
    web_server: Server, open_tab: TabFactory
) -> None:
    tab = open_tab(web_server, "pages")
    page = tab.page
    email = register_through_the_form(tab, "Paige Pager")
    token = httpx.post(
        f"{web_server.api}/auth/login", json={"email": email, "password": PASSWORD}
    ).json()["data"]["token"]
    for number in range(12):
        created = httpx.post(
            f"{web_server.api}/tasks",
            json={"title": f"Task {number:02d}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
    page.reload()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()

    def a_list_request(request: Request) -> bool:
        return "/api/v1/tasks?" in request.url and "stats" not in request.url

    with page.expect_request(a_list_request) as asked:
        page.get_by_role("button", name="Next →").click()
    assert "cursor=" in asked.value.url
    assert "page=" not in asked.value.url
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_test_id("task-card")).to_have_count(2)
    page.get_by_role("button", name="← Prev").click()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(page.get_by_test_id("task-card")).to_have_count(10)
    assert tab.app_errors() == []
