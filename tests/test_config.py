from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from taskyard.config import Settings

REPO = Path(__file__).resolve().parents[1]


def test_production_refuses_missing_short_or_placeholder_secret() -> None:
    for secret in (None, "too-short", "changeme"):
        with pytest.raises(ValidationError, match="TASKYARD_SECRET_KEY"):
            Settings(env="production", secret_key=secret)
    Settings(env="production", secret_key="p" * 40)


def test_development_generates_a_secret_and_says_so() -> None:
    settings = Settings(env="development", secret_key=None)
    assert settings.secret_key_generated
    assert len(settings.signing_key) >= 32
    assert not Settings(env="development", secret_key="given-" * 8).secret_key_generated


def test_cors_origins_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKYARD_CORS_ORIGINS", "https://app.example, https://admin.example")
    assert Settings().allowed_origins == ["https://app.example", "https://admin.example"]


def test_cors_defaults_to_local_dev_clients_only_outside_production() -> None:
    assert "http://localhost:3000" in Settings(env="development").allowed_origins
    assert Settings(env="production", secret_key="p" * 40).allowed_origins == []


@pytest.mark.parametrize(
    ("field", "url"),
    [("redis_url", "redsi://:hunter2@cache:6379/0"), ("broker_url", "http://guest:hunter2@mq/")],
)
def test_a_service_url_of_the_wrong_kind_is_refused_without_its_password(
    field: str, url: str
) -> None:
    with pytest.raises(ValidationError, match="the URL starts with") as refused:
        Settings(**{field: url})  # type: ignore[arg-type]
    assert "hunter2" not in refused.value.errors()[0]["msg"]  # the line a command prints


def test_idle_connections_outlive_every_proxys_upstream_keep_alive() -> None:
    """nginx must close an idle upstream connection before the app does: else it can send a
    request down a connection the app is closing, and a POST that meets the close is a 502."""
    proxy_timeouts = []
    for config in sorted((REPO / "deploy").rglob("*.conf")):
        for upstream in re.findall(r"upstream\s+\S+\s*\{(.*?)\}", config.read_text(), re.S):
            proxy_timeouts += [int(t) for t in re.findall(r"keepalive_timeout\s+(\d+)s", upstream)]
    assert proxy_timeouts  # the deploy configs keep upstream connections alive
    assert Settings().keep_alive_timeout > max(proxy_timeouts)
