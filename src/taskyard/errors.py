"""One error hierarchy, one envelope: `{"success": false, "message", "errors"?, "requestId"}`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from taskyard.edge.asgi import HttpMiddleware, on_response_start
from taskyard.edge.request_id import REQUEST_ID_HEADER, request_id_of
from taskyard.edge.sentry import capture_exception
from taskyard.logging import get_logger

logger = get_logger("taskyard.errors")

VALIDATION_FAILED = "Validation failed"
MAX_REPORTED_ERRORS = 20  # the first twenty tell a client all it can act on
INTERNAL_ERROR = "Internal server error"


class AppError(Exception):
    """Base of every error a client may see; the status code travels with it."""

    status_code = 500
    message = INTERNAL_ERROR
    # Set when the work done before the error must still be committed (e.g. revoking a session).
    persist_changes = False

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> None:
        self.message = message or self.message
        self.errors = list(errors) if errors is not None else None
        self.headers = headers
        self.data = data  # what the client needs to act on the error (a 412's current task)
        super().__init__(self.message)


class BadRequest(AppError):
    status_code = 400
    message = "Bad request"


class ValidationFailed(BadRequest):
    message = VALIDATION_FAILED

    def __init__(self, field: str, message: str) -> None:
        super().__init__(errors=[{"field": field, "message": message}])


class Unauthorized(AppError):
    status_code = 401
    message = "Not authorized"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code = 403
    message = "You do not have permission to perform this action"


class NotFound(AppError):
    status_code = 404
    message = "Not found"


class Conflict(AppError):
    status_code = 409
    message = "Conflict"


class TooManyRequests(AppError):
    status_code = 429
    message = "Too many requests, please try again later"

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(headers=headers)


class ServiceUnavailable(AppError):
    status_code = 503
    message = "Service temporarily unavailable"
    retry_after_seconds = 5

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(self.retry_after_seconds)})


class FieldError(BaseModel):
    field: str
    message: str


class ErrorEnvelope(BaseModel):
    """What every error looks like, as the OpenAPI document shows it."""

    model_config = ConfigDict(json_schema_extra={"required": ["success", "message", "requestId"]})

    success: Literal[False] = False
    message: str
    errors: list[FieldError] | None = Field(
        default=None, description="Present only when validation failed"
    )
    request_id: str = Field(alias="requestId")


_ERROR_DESCRIPTIONS = {
    400: "Validation failed, malformed JSON, or a malformed id",
    401: "Missing, invalid or expired token; or invalid credentials",
    403: "The caller's role or relation to the resource doesn't allow this",
    404: "No such resource, or not one the caller may see",
    409: "Conflicts with the current state",
    413: "Request body too large",
    412: "The resource changed since the If-Match version: the body's data is the current one",
    422: "The Idempotency-Key was already used with a different request",
    429: "Rate limited: see Retry-After",
    502: "A service this one reads from did not answer",
    503: "Service temporarily unavailable: see Retry-After",
}


def documented_errors(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, each with the error envelope."""
    return {
        code: {"model": ErrorEnvelope, "description": _ERROR_DESCRIPTIONS[code]}
        for code in status_codes
    }


def error_body(
    request: Request,
    message: str,
    errors: Iterable[dict[str, str]] | None = None,
    data: Any = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "message": message}
    if errors is not None:
        body["errors"] = list(errors)
    if data is not None:
        body["data"] = data
    body["requestId"] = request_id_of(request)
    return body


def error_response(
    request: Request,
    status_code: int,
    message: str,
    errors: Iterable[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    data: Any = None,
) -> JSONResponse:
    all_headers = {REQUEST_ID_HEADER: request_id_of(request), **(headers or {})}
    return JSONResponse(
        error_body(request, message, errors, data), status_code=status_code, headers=all_headers
    )


_FRIENDLY_MESSAGES = {
    "missing": "This field is required",
    "extra_forbidden": "This field is not allowed",
    "uuid_parsing": "Must be a valid id",
    "uuid_type": "Must be a valid id",
}
_LOCATION_PREFIXES = {"body", "query", "path", "header", "cookie"}


def _field_name(location: Sequence[int | str]) -> str:
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    # A name sent with an unpaired surrogate is reported escaped: it can't be encoded as sent.
    return ".".join(parts).encode("utf-8", "backslashreplace").decode("utf-8")


def validation_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, str]] | None]:
    """Map pydantic's errors to the contract; malformed JSON gets its own message."""
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        return "Malformed JSON in request body", None
    errors = []
    for error in raw[:MAX_REPORTED_ERRORS]:
        error_type = str(error.get("type", ""))
        message = _FRIENDLY_MESSAGES.get(error_type) or str(error.get("msg", "Invalid value"))
        # pydantic prefixes custom ValueError messages; clients want the sentence alone.
        message = message.removeprefix("Value error, ")
        errors.append({"field": _field_name(error.get("loc", ())), "message": message})
    return VALIDATION_FAILED, errors


def app_error_response(request: Request, error: AppError) -> JSONResponse:
    return error_response(
        request, error.status_code, error.message, error.errors, error.headers, error.data
    )


async def _handle_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(request, exc)


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, errors = validation_errors(exc)
    return error_response(request, 400, message, errors)


_HTTP_MESSAGES = {
    404: "Route not found",
    405: "Method not allowed",
}


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method some route answers on this path (Starlette names only the first route's):
    each is asked of the routes as if the request had used it."""
    allowed = {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    }
    if "GET" in allowed:
        allowed.add("HEAD")  # answered like GET (HeadAsGetMiddleware)
    return ", ".join(sorted(allowed))


async def _handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code)
    if message is None:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return error_response(request, exc.status_code, message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)


class UnhandledErrorMiddleware(HttpMiddleware):
    """The last line: any other exception becomes a 500 envelope with no details.

    It sits inside the other middleware (unlike Starlette's own server-error handler), so even
    a 500 carries the request id, the security headers and its metrics.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response_started = False

        def note_start(_message: Message) -> None:
            nonlocal response_started
            response_started = True

        try:
            await self.app(scope, receive, on_response_start(send, note_start))
        except Exception as error:
            logger.exception("unhandled error", method=scope["method"], path=scope["path"])
            capture_exception(error)
            if response_started:
                raise  # too late for a clean answer; the server closes the connection
            await error_response(Request(scope), 500, INTERNAL_ERROR)(scope, receive, send)
