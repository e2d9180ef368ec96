"""What a personal API token's scopes reach, decided by the caller layer from path and method
before anything answers, cached views included: tasks and projects, each read or write, and
never the account, its sessions, its tokens or other people's accounts. A path no scope names
is refused."""

from __future__ import annotations

import enum

API = "/api/v1"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenScope(enum.StrEnum):
    TASKS_READ = "tasks:read"
    TASKS_WRITE = "tasks:write"
    PROJECTS_READ = "projects:read"
    PROJECTS_WRITE = "projects:write"


# The API's areas a token can be given, by their first path segment under /api/v1.
_AREAS = {
    "tasks": "tasks",
    "exports": "tasks",
    "events": "tasks",
    "projects": "projects",
    "teams": "projects",
}


def scope_needed(method: str, path: str) -> TokenScope | None:
    """The scope this request needs from a token; None: no token may make it."""
    if not path.startswith(API + "/"):
        return None
    area = _AREAS.get(path[len(API) + 1 :].split("/", 1)[0])
    if area is None:
        return None
    return TokenScope(f"{area}:{'read' if method in _READS else 'write'}")


def allows(scopes: frozenset[str], method: str, path: str) -> bool:
    needed = scope_needed(method, path)
    return needed is not None and needed.value in scopes
