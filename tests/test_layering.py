"""Imports point down: the plumbing knows no domain, and accounts know nothing of tasks.
Read from the source, so a stray import fails here before it tangles a split deployment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "taskyard"
DOMAINS = (
    "auth",
    "users",
    "tasks",
    "exports",
    "projects",
    "teams",
    "labels",
    "comments",
    "activity",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
    return names


def offending_imports(place: str, forbidden: tuple[str, ...]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    root = PACKAGE / place
    for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
        bad = {
            name
            for name in imported_modules(path)
            if any(name == f"taskyard.{f}" or name.startswith(f"taskyard.{f}.") for f in forbidden)
        }
        if bad:
            found[str(path.relative_to(PACKAGE))] = bad
    return found


@pytest.mark.parametrize(
    ("place", "forbidden"),
    [
        ("jobs", DOMAINS),  # outbox, relay, broker, worker, periodic runner: plumbing only
        ("cache", DOMAINS),
        ("idempotency", DOMAINS),
        ("ops", DOMAINS),
        ("edge", (*DOMAINS, "identity")),  # the caller's claims are handed in, not looked up
        ("db", (*DOMAINS, "identity")),  # the replica choice is told who calls
        ("redis_client.py", DOMAINS),
        ("access_tokens.py", DOMAINS),  # a service that only verifies tokens needs no auth code
        ("identity", DOMAINS),  # the caller, for every service: roles are its own
        ("users", ("tasks", "exports")),  # deleting or renaming someone is wired in, not imported
    ],
)
def test_imports_point_down(place: str, forbidden: tuple[str, ...]) -> None:
    assert (PACKAGE / place).exists()
    assert offending_imports(place, forbidden) == {}


def test_the_check_sees_an_import_that_breaks_the_rule(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("from taskyard.tasks.models import Task\nimport taskyard.users.models\n")
    assert imported_modules(module) == {"taskyard.tasks.models", "taskyard.users.models"}


def test_every_event_type_has_one_handler_and_each_domain_registers_its_own() -> None:
    from taskyard.comments.events import COMMENT_MENTIONED
    from taskyard.config import Settings
    from taskyard.exports.events import EXPORT_READY, EXPORT_REQUESTED
    from taskyard.live.events import LIVE_OUTBOUND
    from taskyard.tasks.events import TASK_ASSIGNED, TASK_DUE_SOON
    from taskyard.users.events import USER_REGISTERED
    from taskyard.webhooks.events import WEBHOOK_DISABLED, WEBHOOK_DISABLED_NOTICE
    from taskyard.wiring import event_registry

    registry = event_registry(Settings())
    assert registry.event_types == {
        USER_REGISTERED,
        TASK_ASSIGNED,
        TASK_DUE_SOON,
        COMMENT_MENTIONED,
        EXPORT_REQUESTED,
        EXPORT_READY,
        LIVE_OUTBOUND,
        WEBHOOK_DISABLED,
        WEBHOOK_DISABLED_NOTICE,
    }
    assert set(registry.periodic) == {
        "due-soon scan",
        "expired-export purge",
        "expired idempotency-key purge",
        "webhook delivery purge",
    }
    assert set(registry.background) == {"webhook sender"}
    assert registry.mails[TASK_ASSIGNED].__module__ == "taskyard.tasks.notifications"
    assert registry.mails[COMMENT_MENTIONED].__module__ == "taskyard.comments.notifications"
    assert registry.mails[USER_REGISTERED].__module__ == "taskyard.users.notifications"
    assert registry.work[EXPORT_REQUESTED].run.__module__ == "taskyard.exports.jobs"
    assert registry.work[LIVE_OUTBOUND].run.__module__ == "taskyard.webhooks.jobs"
