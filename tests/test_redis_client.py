from __future__ import annotations

import logging

import pytest

from taskyard.config import Settings
from taskyard.logging import configure_logging
from taskyard.redis_client import BackendGuard


def test_guard_logs_an_outage_once_per_interval_and_skips_briefly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging(Settings())
    logging.getLogger().addHandler(caplog.handler)  # configure_logging replaced the handlers
    guard = BackendGuard("redis", retry_after=60, log_interval=60)
    with caplog.at_level(logging.INFO, logger="taskyard.redis"):
        for _ in range(50):
            guard.record_failure("rate_limit", ConnectionError("refused"))
        assert guard.should_skip()
        assert guard.is_failing
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        guard.record_success()
    assert not guard.is_failing
    assert any("recovered" in r.getMessage() for r in caplog.records)


def test_guard_retries_after_the_pause() -> None:
    guard = BackendGuard("redis", retry_after=0)
    guard.record_failure("denylist_check", TimeoutError())
    assert not guard.should_skip()
