"""One structured log line and one set of metrics per request, under the route's template."""

from __future__ import annotations

import re
from typing import Any

from starlette.types import Scope

from taskyard.edge.metrics import HTTP_LATENCY, HTTP_REQUESTS
from taskyard.logging import get_logger

logger = get_logger("taskyard.access")
# Probes and scrapes arrive every few seconds; they are logged at debug level only.
QUIET_PREFIXES = ("/health", "/metrics")


_CONVERTOR = re.compile(r":[a-z]+}")
_ROUTE = "taskyard_route"


def name_route(scope: Scope, template: str) -> None:
    """For a request answered before routing: the route that would have answered it."""
    scope.setdefault("state", {})[_ROUTE] = template


def route_template(scope: Scope) -> str:
    """The matched route's full template (`/api/v1/tasks/{id}`), so metrics don't explode per id.

    FastAPI keeps an included route's own path on `scope["route"]` and the prefixed template on
    its route context; prefer the latter, fall back to the former.
    """
    named: str | None = scope.get("state", {}).get(_ROUTE)
    if named is not None:
        return named
    context: Any = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    # Without convertor names: `/tasks/{id:taskid}` is `/tasks/{id}`, as the API documents it.
    return _CONVERTOR.sub("}", str(path)) if path else "unmatched"


def record_request(scope: Scope, status: int, elapsed: float) -> None:
    """The request's metrics and its access log line."""
    method, route = scope["method"], route_template(scope)
    labels = (method, route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_LATENCY.labels(*labels).observe(elapsed)
    log = logger.debug if scope["path"].startswith(QUIET_PREFIXES) else logger.info
    client = scope.get("client")
    log(
        "request",
        method=method,
        route=route,
        path=scope["path"],
        status=status,
        duration_ms=round(elapsed * 1000, 2),
        user_id=scope.get("state", {}).get("user_id"),
        client_ip=client[0] if client else None,
    )
