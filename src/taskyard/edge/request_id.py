"""Request ids: keep a sane incoming X-Request-ID, otherwise mint one; echo it on every response."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_KEY:
            candidate = value.decode("latin-1")
            return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else None
    return None


def request_id_of_scope(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = _incoming_request_id(scope) or uuid.uuid4().hex
    return str(request_id)


def request_id_of(request: Request) -> str:
    return request_id_of_scope(request.scope)
