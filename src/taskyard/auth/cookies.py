"""The refresh token as an HttpOnly cookie, for the web client.

The access token stays in the page's memory and the refresh token in a cookie that script can't
read, so an XSS bug can't steal a long-lived credential. CSRF is covered twice: the cookie is
SameSite=Strict, and a refresh by cookie must come from an allowed Origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response

from taskyard.errors import Forbidden

REFRESH_COOKIE = "taskyard_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _request_host(request: Request) -> str:
    return (urlsplit(f"//{request.headers.get('host', '')}").hostname or "").lower()


def _is_plain_http_localhost(request: Request) -> bool:
    return request.url.scheme == "http" and _request_host(request) in _LOOPBACK_HOSTS


def _cookie_attributes(request: Request) -> dict[str, Any]:
    # Setting and clearing must name the same path and flags, or the browser keeps the old one.
    return {
        "path": REFRESH_COOKIE_PATH,
        "httponly": True,
        "secure": not _is_plain_http_localhost(request),
        "samesite": "strict",
    }


def set_refresh_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(REFRESH_COOKIE, token, max_age=max_age, **_cookie_attributes(request))


def clear_refresh_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(REFRESH_COOKIE, **_cookie_attributes(request))


def refresh_cookie(request: Request) -> str | None:
    return request.cookies.get(REFRESH_COOKIE) or None


def require_allowed_origin(request: Request, allowed_origins: list[str]) -> None:
    """A request that authenticates by cookie must name its origin, and it must be ours."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        raise Forbidden("Origin required for cookie authentication")
    own_origin = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin != own_origin and origin not in allowed_origins:
        raise Forbidden("Origin not allowed")
