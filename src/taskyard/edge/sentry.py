"""Optional error tracking: active only when TASKYARD_SENTRY_DSN is set and sentry-sdk is installed
(`pip install taskyard[sentry]`)."""

from __future__ import annotations

from typing import Any

from taskyard import __version__
from taskyard.config import Settings
from taskyard.logging import get_logger

logger = get_logger("taskyard.sentry")


def init_sentry(settings: Settings) -> bool:
    if settings.sentry_dsn is None:
        return False
    try:
        import sentry_sdk
    except ImportError:
        logger.warning("TASKYARD_SENTRY_DSN is set but sentry-sdk is not installed")
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.env,
        release=f"taskyard@{__version__}",
        traces_sample_rate=0.0,
        include_local_variables=False,  # locals may hold passwords and tokens
        before_send=scrub_event,
    )
    return True


_SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key"})


def scrub_event(event: Any, _hint: Any) -> Any:
    """No tokens, cookies, bodies or query strings leave the service."""
    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: "[removed]" if name.lower() in _SECRET_HEADERS else value
                for name, value in headers.items()
            }
        for key in ("data", "cookies", "query_string"):
            request.pop(key, None)
    return event


def capture_exception(error: BaseException) -> None:
    try:
        import sentry_sdk
    except ImportError:
        return
    if sentry_sdk.get_client().is_active():
        sentry_sdk.capture_exception(error)
