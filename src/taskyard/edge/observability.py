"""One structured log line and one set of metrics per request."""

from __future__ import annotations

import re
import time
from typing import Any

import structlog
from starlette.types import Message, Receive, Scope, Send

from taskyard.edge.asgi import HttpMiddleware, on_response_start
from taskyard.edge.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS
from taskyard.edge.request_id import request_id_of_scope
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


class ObservabilityMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500
        request_id = request_id_of_scope(scope)
        structlog.contextvars.bind_contextvars(request_id=request_id)

        def note_status(message: Message) -> None:
            nonlocal status
            status = message["status"]

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, on_response_start(send, note_status))
        finally:
            HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route, str(status)).observe(elapsed)
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
            structlog.contextvars.clear_contextvars()
