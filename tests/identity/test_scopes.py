"""What a personal API token's scopes reach: decided by path and method, refused by default."""

from __future__ import annotations

import pytest

from taskyard.identity.scopes import TokenScope, allows, scope_needed


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [
        ("GET", "/api/v1/tasks", TokenScope.TASKS_READ),
        ("HEAD", "/api/v1/tasks/stats", TokenScope.TASKS_READ),
        ("POST", "/api/v1/tasks", TokenScope.TASKS_WRITE),
        ("PATCH", "/api/v1/tasks/abc", TokenScope.TASKS_WRITE),
        ("POST", "/api/v1/tasks/abc/comments", TokenScope.TASKS_WRITE),
        ("POST", "/api/v1/exports", TokenScope.TASKS_WRITE),
        ("GET", "/api/v1/projects", TokenScope.PROJECTS_READ),
        ("DELETE", "/api/v1/projects/abc/members/def", TokenScope.PROJECTS_WRITE),
        ("POST", "/api/v1/teams", TokenScope.PROJECTS_WRITE),
        # The account, its sessions and tokens, other people: never.
        ("GET", "/api/v1/auth/me", None),
        ("POST", "/api/v1/auth/tokens", None),
        ("POST", "/api/v1/auth/logout", None),
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/ops/cluster", None),
        ("GET", "/api/v1/tasksx", None),
        ("GET", "/api/v2/tasks", None),
        ("GET", "/metrics", None),
    ],
)
def test_the_scope_a_request_needs(method: str, path: str, needed: TokenScope | None) -> None:
    assert scope_needed(method, path) == needed


def test_a_write_scope_is_not_a_read_scope() -> None:
    assert not allows(frozenset({"tasks:write"}), "GET", "/api/v1/tasks")
    assert allows(frozenset({"tasks:read", "tasks:write"}), "GET", "/api/v1/tasks")
    assert not allows(frozenset({"tasks:read", "tasks:write"}), "GET", "/api/v1/users")
