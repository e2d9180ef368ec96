"""Schemathesis hooks for fuzzing a running `taskyard serve` (loaded through SCHEMATHESIS_HOOKS).

They sign in as the caller named by the environment, and keep generated data realistic only
where a schema can't: ids and emails of people who exist, and no made-up signed cursors. A value
that breaks the schema is left as it is, so negative cases stay negative.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import httpx
import schemathesis

from taskyard.idempotency.dependencies import KEY_PATTERN

API = os.environ["TASKYARD_FUZZ_API"]
EMAIL = os.environ["TASKYARD_FUZZ_EMAIL"]
PASSWORD = os.environ["TASKYARD_FUZZ_PASSWORD"]
ASSIGNEE_ID = os.environ["TASKYARD_FUZZ_ASSIGNEE_ID"]
ASSIGNEE_EMAIL = os.environ["TASKYARD_FUZZ_ASSIGNEE_EMAIL"]
# Accounts the run must not delete, deactivate or demote: the caller's own, and the assignee's.
KEPT_IDS = {os.environ["TASKYARD_FUZZ_OWN_ID"], ASSIGNEE_ID}
MAX_CURSOR_LENGTH = 512
TOKEN_EXPIRY = "2099-01-01T00:00:00Z"
# A webhook URL of the schema's shape names a host that resolves to a public address, or it is
# refused (400): one made up never resolves. This one is public and needs no DNS.
WEBHOOK_URL = "https://93.184.216.34/hook"
WEBHOOK_URL_SHAPE = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%:\[\]-]+([/?#][!-~]*)?")


@schemathesis.auth()
class SignedIn:
    """A fresh login whenever the token stops working (a fuzzed logout ends its session)."""

    def get(self, case: Any, ctx: Any) -> str:
        response = httpx.post(
            f"{API}/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
        )
        response.raise_for_status()
        token: str = response.json()["data"]["token"]
        return token

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_email(value: object) -> bool:
    from pydantic import TypeAdapter, ValidationError

    from taskyard.users.schemas import Email

    try:
        TypeAdapter(Email).validate_python(value)
    except ValidationError:
        return False
    return True


@schemathesis.hook
def filter_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> bool:
    return not path_parameters or path_parameters.get("id") not in KEPT_IDS


def _keep_project_work_realistic(case: Any, body: dict[str, Any]) -> None:
    """Labels, neighbours on the board, people added and a project's next owner must exist in
    the project: made-up ids of the schema's shape never do."""
    labels = body.get("labels")
    if isinstance(labels, list) and all(_is_uuid(label) for label in labels):
        body["labels"] = []
    for neighbour in ("afterId", "beforeId"):
        if _is_uuid(body.get(neighbour)):
            del body[neighbour]
    path = case.path
    if path.endswith("/members") and _is_email(body.get("email")):
        body["email"] = ASSIGNEE_EMAIL
    if path.endswith("/transfer") and _is_uuid(body.get("userId")):
        # The next owner is a member: the assignee, added first.
        _assignee_joins(case, (case.path_parameters or {}).get("id"))
        body["userId"] = ASSIGNEE_ID
    if _is_uuid(body.get("projectId")):
        # A task moved to a project keeps its assignee (the only one the hooks give tasks), who
        # must be a member there too.
        _assignee_joins(case, body["projectId"])
    if body.get("assigneeId") == ASSIGNEE_ID or body.get("assigneeEmail") == ASSIGNEE_EMAIL:
        # In a shared project, only its members can be given its tasks.
        project = body.get("projectId")
        task_id = (case.path_parameters or {}).get("id")
        if project is None and path.startswith("/api/v1/tasks/") and _is_uuid(task_id):
            task = httpx.get(f"{API}/tasks/{task_id}", headers=_auth(case), timeout=30)
            project = task.json()["data"]["projectId"] if task.status_code == 200 else None
        if _is_uuid(project):
            _assignee_joins(case, project)


def _auth(case: Any) -> dict[str, str]:
    return {"Authorization": (case.headers or {}).get("Authorization", "")}


def _assignee_joins(case: Any, project: object) -> None:
    """The assignee becomes a member of the project, if the caller may add them (a 409 if they
    are in already, a 409 for a personal project, where anyone may be assigned anyway)."""
    if _is_uuid(project):
        httpx.post(
            f"{API}/projects/{project}/members",
            json={"email": ASSIGNEE_EMAIL, "role": "viewer"},
            headers=_auth(case),
            timeout=30,
        )


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """In every phase, just before the request: the kept accounts are left alone, tasks are
    assigned to someone who exists (any valid id or email of the schema's shape), and no
    made-up cursor is sent (a cursor is signed by the server, so one that merely fits the
    schema is never valid). Schemathesis re-checks the case afterwards, so what it counts as
    a negative case stays one."""
    # The stateful phase follows links (GET /users -> PATCH or DELETE /users/{id}) past
    # filter_path_parameters: such a call on a kept account goes to nobody instead (a 404).
    parameters = case.path_parameters or {}
    if case.method.upper() in {"PATCH", "DELETE"} and parameters.get("id") in KEPT_IDS:
        parameters["id"] = str(uuid.uuid4())
    body = case.body
    if isinstance(body, dict):
        if _is_uuid(body.get("assigneeId")):
            body["assigneeId"] = ASSIGNEE_ID
        if _is_email(body.get("assigneeEmail")):
            body["assigneeEmail"] = ASSIGNEE_EMAIL
        _keep_project_work_realistic(case, body)
        if case.path.endswith("/auth/tokens") and isinstance(body.get("expiresAt"), str):
            body["expiresAt"] = TOKEN_EXPIRY  # a token made already expired is a 400
        url = body.get("url")
        if "/webhooks" in case.path and isinstance(url, str) and WEBHOOK_URL_SHAPE.fullmatch(url):
            body["url"] = WEBHOOK_URL
    # A key is unique per request: one that fits the schema, reused with another body, is a
    # 422 by design. And an ETag that fits the schema names a version that's likely gone (412).
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and KEY_PATTERN.fullmatch(key):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    if "If-Match" in headers:
        del headers["If-Match"]
    query = case.query
    cursor = (query or {}).get("cursor")
    if isinstance(cursor, str) and len(cursor) <= MAX_CURSOR_LENGTH and "\x00" not in cursor:
        del query["cursor"]
