"""Optional error tracking: active only when TASKYARD_SENTRY_DSN is set and sentry-sdk is installed
(`pip install taskyard[sentry]`)."""

from __future__ import annotations

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
        send_default_pii=False,  # no tokens, emails or bodies leave the service
        traces_sample_rate=0.0,
    )
    return True


def capture_exception(error: BaseException) -> None:
    try:
        import sentry_sdk
    except ImportError:
        return
    if sentry_sdk.get_client().is_active():
        sentry_sdk.capture_exception(error)
