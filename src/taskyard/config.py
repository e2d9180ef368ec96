"""Settings: each knob is an environment variable prefixed TASKYARD_ (a .env file is read too)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_KEY_LENGTH = 32
# Placeholders people paste from examples; never acceptable as a production secret.
KNOWN_WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "your-secret-key", "jwt-secret"})

DEV_CORS_ORIGINS = ["http://localhost:3000", "http://localhost:5173"]
DEFAULT_WEB_DIR = Path(__file__).resolve().parent / "web" / "dist"


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# The drivers Taskyard runs on, for the URL forms people write.
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
SERVICE_SCHEMES = {
    "redis_url": frozenset({"redis", "rediss", "unix"}),
    "broker_url": frozenset({"amqp", "amqps"}),
}


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def async_database_url(url: str) -> str:
    """`postgresql://`, `postgres://` and `sqlite:///path` as their async drivers' URLs."""
    scheme, separator, rest = url.partition("://")
    driver = _ASYNC_DRIVERS.get(scheme.lower()) if separator else None
    if driver is None:
        raise ValueError(
            "a database URL looks like postgresql://user:password@host:5432/name or "
            f"sqlite:///path/to/file.db, not {_without_password(url)!r}"
        )
    return f"{driver}://{rest}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TASKYARD_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
        env_ignore_empty=True,
    )

    env: Literal["development", "test", "production"] = "development"

    database_url: str = "sqlite+aiosqlite:///./taskyard.db"
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=40, ge=0, le=1000)
    db_pool_timeout: float = Field(default=30, gt=0)
    db_connect_timeout: float = Field(default=5, gt=0)
    # A round trip at checkout that finds dead connections (after a database restart) before a
    # request does. Only for connections that rested longer than `db_pool_ping_after_seconds`:
    # one used a moment ago is alive but for a restart in that moment, and under load the ping
    # would cost a round trip on every request. 0 pings every checkout.
    db_pool_pre_ping: bool = True
    db_pool_ping_after_seconds: float = Field(default=1.0, ge=0)

    # all: one process serves everything. auth or tasks: one of the split services, each with
    # its own database, behind a gateway (`taskyard serve --service`).
    service: Literal["all", "auth", "tasks"] = "all"
    # Where the task service finds the auth service's public keys.
    auth_jwks_url: str | None = None

    secret_key: SecretStr | None = None
    access_token_ttl: int = Field(default=900, ge=5)
    refresh_token_ttl: int = Field(default=604_800, ge=60)
    # A refresh token presented again this soon after it was spent is a client racing itself
    # (two tabs, or two requests that both met an expired token), not theft: it gets a fresh
    # pair from the same session. Later reuse revokes the session. 0 turns the grace off.
    refresh_reuse_grace_seconds: float = Field(default=30, ge=0)
    # hs256: one shared secret signs and verifies (the monolith). ed25519: keys of their own,
    # kept in the database and published at /.well-known/jwks.json, so that other services
    # verify tokens without the secret (`taskyard keys rotate` rotates them).
    jwt_signing: Literal["hs256", "ed25519"] = "hs256"
    # A rotated-in key is published this long before it signs: longer than any instance takes to
    # reload the keys (`signing_key_reload_seconds`) and any verifier's cached key set.
    signing_key_lead_seconds: float = Field(default=30, ge=0)
    signing_key_reload_seconds: float = Field(default=5, gt=0)

    # OWASP's minimum for Argon2id is m=19 MiB, t=2, p=1; lower values are refused.
    argon2_memory_cost: int = Field(default=19_456, ge=19_456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    cors_origins: Annotated[list[str] | None, NoDecode] = None

    # Shared state: rate-limit counters and the token denylist live here when set.
    redis_url: str | None = None
    redis_key_prefix: str = "taskyard"
    # Per process, all opened at start: past them, a command waits briefly for a free one,
    # then fails open.
    redis_max_connections: int = Field(default=20, ge=1, le=10_000)

    rate_limit_enabled: bool = True
    rate_limit: str = "100/15minutes"
    rate_limit_admin: str = "1000/15minutes"
    # Sign-in budgets, each in its own bucket so an office behind one address isn't locked out:
    # login per address and email, a ceiling per address (credential stuffing), registration
    # per address, and refresh per login session.
    rate_limit_login: str = "10/15minutes"
    rate_limit_login_ip: str = "100/15minutes"
    rate_limit_register: str = "20/hour"
    rate_limit_refresh: str = "60/15minutes"
    rate_limit_strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = (
        "sliding-window-counter"
    )
    # Addresses (or networks) of proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # After this many failed logins for one email or from one address within the window, login
    # and register need a solved proof-of-work challenge (0: never).
    challenge_after_failures: int = Field(default=5, ge=0)
    challenge_window_seconds: int = Field(default=900, ge=1)
    challenge_ttl_seconds: int = Field(default=300, ge=10)
    challenge_cost: int = Field(default=5_000, ge=1)  # PBKDF2 iterations per attempt

    cache_enabled: bool = True
    # At most a day: version counters are kept a week past their last use (cache/backend.py).
    cache_ttl: int = Field(default=300, ge=1, le=86_400)
    # After writing, a person's reads stay on the primary this long (replicas may lag).
    read_your_writes_seconds: float = Field(default=5.0, ge=0)
    database_replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)

    broker_url: str | None = None
    # Where people reach the web client: absolute links in emails start here.
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: SecretStr | None = None
    mail_from: str = "Taskyard <no-reply@taskyard.local>"
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    broker_prefix: str = "taskyard"
    # Quorum queues (replicated by Raft across a RabbitMQ cluster) instead of classic ones.
    broker_quorum: bool = False
    export_ttl_seconds: int = Field(default=86_400, ge=60)
    due_scan_seconds: float = Field(default=60.0, gt=0)
    worker_prefetch: int = Field(default=16, ge=1)
    job_max_attempts: int = Field(default=5, ge=1)
    job_retry_base_seconds: float = Field(default=1.0, gt=0)

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    compression_min_bytes: int = Field(default=1024, ge=0)
    shutdown_timeout: float = Field(default=20, gt=0)

    # The built web client (frontend/ builds into the package); unset or missing: API only.
    web_dir: Path | None = DEFAULT_WEB_DIR

    log_level: str = "info"
    log_format: Literal["json", "console"] = "json"
    sentry_dsn: SecretStr | None = None
    # Where the operations panel reads cluster-wide figures (every instance), if set.
    prometheus_url: str | None = None

    _secret_key_generated: bool = PrivateAttr(default=False)

    @field_validator(
        "redis_url", "sentry_dsn", "broker_url", "smtp_url", "prometheus_url", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", "trusted_proxies", "database_replica_urls", mode="before")
    @classmethod
    def _parse_lists(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("database_url")
    @classmethod
    def _async_database_url(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("database_replica_urls")
    @classmethod
    def _async_replica_urls(cls, value: list[str]) -> list[str]:
        return [async_database_url(url) for url in value]

    @field_validator("redis_url", "broker_url")
    @classmethod
    def _service_scheme(cls, value: str | None, info: ValidationInfo) -> str | None:
        schemes = SERVICE_SCHEMES[info.field_name or ""]
        if value is not None and urlsplit(value).scheme not in schemes:
            starts = " or ".join(f"{scheme}://" for scheme in sorted(schemes))
            raise ValueError(f"the URL starts with {starts}, not {_without_password(value)!r}")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                f"the address people open, like https://tasks.example.com, not {value!r}"
            )
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _parse_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # raises ValueError on a typo
        return value

    @field_validator(
        "rate_limit",
        "rate_limit_admin",
        "rate_limit_login",
        "rate_limit_login_ip",
        "rate_limit_register",
        "rate_limit_refresh",
    )
    @classmethod
    def _parse_rate(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(f"not a rate limit like '100/15minutes': {value!r}") from error
        return value

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        if self.env == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in KNOWN_WEAK_SECRETS:
                raise ValueError(
                    "TASKYARD_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_KEY_LENGTH} characters when TASKYARD_ENV=production"
                )
        elif self.secret_key is None:
            # Development only: tokens then last as long as this process does.
            self.secret_key = SecretStr(generate_secret_key())
            self._secret_key_generated = True
        return self

    @model_validator(mode="after")
    def _check_split(self) -> Settings:
        if self.service == "all":
            return self
        # The services share what makes them one system: events, revocation and cache versions.
        missing = [
            name
            for name, value in (
                ("TASKYARD_BROKER_URL", self.broker_url),
                ("TASKYARD_REDIS_URL", self.redis_url),
            )
            if value is None
        ]
        if self.service == "tasks" and self.auth_jwks_url is None:
            missing.append("TASKYARD_AUTH_JWKS_URL")
        if missing:
            raise ValueError(f"TASKYARD_SERVICE={self.service} needs {', '.join(missing)}")
        if self.service == "auth":
            self.jwt_signing = "ed25519"  # the task service verifies without the secret
        return self

    @property
    def secret_key_generated(self) -> bool:
        return self._secret_key_generated

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def allowed_origins(self) -> list[str]:
        if self.cors_origins is not None:
            return self.cors_origins
        return [] if self.env == "production" else DEV_CORS_ORIGINS

    @property
    def signing_key(self) -> str:
        assert self.secret_key is not None  # guaranteed by _check_secrets
        return self.secret_key.get_secret_value()


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


@lru_cache
def get_settings() -> Settings:
    return Settings()
