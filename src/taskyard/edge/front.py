"""The first layer every request crosses, doing in one pass what every response needs.

On the way in: the real client behind a trusted proxy, the request id, and the request line as
the routes may take it (`request_line`). On the way out, in
one pass over the response headers: the request id, the security headers, the cache policy
for responses meant for one person, and what other layers asked for (`add_response_headers`: the
rate limits). At the end: the request's metrics and access log line.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskyard.edge.asgi import added_response_headers
from taskyard.edge.http_semantics import cache_policy
from taskyard.edge.metrics import HTTP_IN_FLIGHT
from taskyard.edge.observability import record_request
from taskyard.edge.proxy import TrustedProxies, apply_forwarded
from taskyard.edge.request_id import REQUEST_ID_KEY, request_id_of_scope
from taskyard.edge.request_line import (
    MALFORMED_TEXT,
    drop_trailing_slash,
    malformed_query_parameter,
)
from taskyard.edge.security_headers import SecurityHeaders
from taskyard.errors import VALIDATION_FAILED, error_response

_CACHE_CONTROL = b"cache-control"


class FrontMiddleware:
    def __init__(self, app: ASGIApp, *, trusted: TrustedProxies, security: SecurityHeaders) -> None:
        self.app = app
        self.trusted = trusted
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        apply_forwarded(scope, self.trusted)
        drop_trailing_slash(scope)
        request_id = request_id_of_scope(scope)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        replaced = self.security.for_request(scope)
        # Set by the app when it chose its own; otherwise these.
        defaults = [(REQUEST_ID_KEY, request_id.encode())]
        policy = cache_policy(scope)
        if policy is not None:
            defaults.append((_CACHE_CONTROL, policy))
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _merged(message.get("headers", ()), replaced, defaults)
                message["headers"].extend(added_response_headers(scope))
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            malformed = malformed_query_parameter(scope.get("query_string", b""))
            if malformed is not None:
                errors = [{"field": malformed, "message": MALFORMED_TEXT}]
                refusal = error_response(Request(scope), 400, VALIDATION_FAILED, errors)
                await refusal(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            HTTP_IN_FLIGHT.dec()
            record_request(scope, status, time.perf_counter() - started)
            structlog.contextvars.clear_contextvars()


def _merged(
    headers: Iterable[tuple[bytes, bytes]],
    replaced: list[tuple[bytes, bytes]],
    defaults: list[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    """The app's headers, less those `replaced` overrides, then `replaced`, then each default
    the app didn't set itself."""
    overridden = {name for name, _ in replaced}
    kept: list[tuple[bytes, bytes]] = []
    present: set[bytes] = set()
    for name, value in headers:
        lowered = name.lower()
        if lowered not in overridden:
            kept.append((name, value))
            present.add(lowered)
    kept.extend(replaced)
    kept.extend(header for header in defaults if header[0] not in present)
    return kept
