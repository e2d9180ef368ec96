"""Giving a task to someone else, and their "Assigned to me" view."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.serving import Server
from tests.web.conftest import TabFactory
from tests.web.pages import register_through_the_form, task_card

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def test_an_assignee_sees_the_task_and_moves_it_along(
    web_server: Server, open_tab: TabFactory
) -> None:
    helper = open_tab(web_server, "helper")
    helper_email = register_through_the_form(helper, "Hana Helper")

    owner = open_tab(web_server, "owner")
    register_through_the_form(owner, "Olu Owner")
    page = owner.page
    page.get_by_role("button", name="+ New task").click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Title").fill("Review the contract")
    dialog.get_by_label("Assign to (email)").fill(helper_email)
    dialog.get_by_role("button", name="Create task").click()
    expect(task_card(page, "Review the contract")).to_contain_text("Assigned to Hana Helper")

    # The helper finds it under "Assigned to me", with no way to edit or delete it.
    helper.page.get_by_role("link", name="Assigned to me").click()
    card = task_card(helper.page, "Review the contract")
    expect(card).to_contain_text("Owner: Olu Owner")
    expect(card.get_by_role("button", name="Edit Review the contract")).to_have_count(0)
    expect(card.get_by_role("button", name="Delete Review the contract")).to_have_count(0)
    card.get_by_label("Status of Review the contract").select_option(label="In progress")
    expect(helper.page.get_by_text("Task updated successfully").first).to_be_visible()

    # The owner sees the helper's change.
    page.reload()
    expect(
        task_card(page, "Review the contract").get_by_label("Status of Review the contract")
    ).to_have_value("in-progress")
    expect(page.get_by_test_id("stat-in-progress")).to_have_text("1")

    # Unassigned by clearing the email: the helper's list empties.
    task_card(page, "Review the contract").get_by_role(
        "button", name="Edit Review the contract"
    ).click()
    dialog = page.get_by_role("dialog", name="Edit task")
    expect(dialog.get_by_label("Assign to (email)")).to_have_value(helper_email)
    dialog.get_by_label("Assign to (email)").fill("")
    dialog.get_by_role("button", name="Save changes").click()
    expect(task_card(page, "Review the contract")).not_to_contain_text("Assigned to")
    helper.page.reload()
    expect(helper.page.get_by_text("Nobody has assigned you a task yet.")).to_be_visible()

    assert owner.app_errors() == []
    assert helper.app_errors() == []
