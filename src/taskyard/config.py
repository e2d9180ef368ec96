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

    env: Literal["development", "test", "production"] = Field(
        default="development",
        description=(
            "`development`, `test` or `production` (production refuses a missing or weak secret "
            "key)"
        ),
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./taskyard.db",
        description=(
            "or `postgresql://user:pass@host:5432/db`; `postgres://` and `sqlite:///path` work "
            "too, "
            "and map to the async drivers"
        ),
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description=(
            "connections kept open per process, opened when it starts; size it to the concurrent "
            "requests one process sees, since connections past the pool are opened and closed per "
            "request"
        ),
    )
    db_max_overflow: int = Field(
        default=40,
        ge=0,
        le=1000,
        description=(
            "extra connections under load (so 10 to 50, as the original plan asks); keep every "
            "process's `POOL_SIZE + MAX_OVERFLOW` summed below PostgreSQL's `max_connections` "
            "(the Compose stack and the Kubernetes ConfigMap set 10)"
        ),
    )
    db_pool_timeout: float = Field(
        default=30, gt=0, description="seconds to wait for a free connection"
    )
    db_connect_timeout: float = Field(
        default=5, gt=0, description="seconds before a database that doesn't answer counts as down"
    )
    # A round trip at checkout that finds dead connections (after a database restart) before a
    # request does. Only for connections that rested longer than `db_pool_ping_after_seconds`:
    # one used a moment ago is alive but for a restart in that moment, and under load the ping
    # would cost a round trip on every request. 0 pings every checkout.
    db_pool_pre_ping: bool = Field(
        default=True,
        description=(
            "check a connection at checkout (a round trip) when it rested in the pool longer than "
            "the"
            " next setting; replicas check every checkout"
        ),
    )
    db_pool_ping_after_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "how long a connection rests before its checkout is checked; a connection used within "
            "it "
            "is trusted (0 checks every checkout)"
        ),
    )

    # all: one process serves everything. auth or tasks: one of the split services, each with
    # its own database, behind a gateway (`taskyard serve --service`).
    service: Literal["all", "auth", "tasks"] = Field(
        default="all",
        description=(
            "`all` (the monolith), or `auth` / `tasks`: one of the split services (also "
            "`--service` "
            "on `serve`, `migrate`, `worker`); split mode needs `TASKYARD_BROKER_URL` and "
            "`TASKYARD_REDIS_URL`"
        ),
    )
    # Where the task service finds the auth service's public keys.
    auth_jwks_url: str | None = Field(
        default=None,
        description=(
            "the task service's way to the auth service's key set, e.g. "
            "`http://auth:8000/.well-known/jwks.json`"
        ),
    )

    secret_key: SecretStr | None = Field(
        default=None, description="JWT signing key; required (32+ characters) in production"
    )
    access_token_ttl: int = Field(
        default=900, ge=5, description="access-token lifetime, seconds (at least 5)"
    )
    refresh_token_ttl: int = Field(
        default=604_800, ge=60, description="refresh-token lifetime, seconds"
    )
    # A refresh token presented again this soon after it was spent is a client racing itself
    # (two tabs, or two requests that both met an expired token), not theft: it gets a fresh
    # pair from the same session. Later reuse revokes the session. 0 turns the grace off.
    refresh_reuse_grace_seconds: float = Field(
        default=30,
        ge=0,
        description=(
            "a spent refresh token presented again this soon gets a fresh pair instead of ending "
            "the "
            "session; 0 turns it off"
        ),
    )
    # hs256: one shared secret signs and verifies (the monolith). ed25519: keys of their own,
    # kept in the database and published at /.well-known/jwks.json, so that other services
    # verify tokens without the secret (`taskyard keys rotate` rotates them).
    jwt_signing: Literal["hs256", "ed25519"] = Field(
        default="hs256",
        description=(
            "`hs256` (the secret key signs and verifies) or `ed25519` (keys in the database, "
            "published as a JWKS, rotated by `taskyard rotate-keys`)"
        ),
    )
    # A rotated-in key is published this long before it signs: longer than any instance takes to
    # reload the keys (`signing_key_reload_seconds`) and any verifier's cached key set.
    signing_key_lead_seconds: float = Field(
        default=30,
        ge=0,
        description=(
            "a rotated-in Ed25519 key is published this long before it signs; keep it above the "
            "reload period and any cached key set"
        ),
    )
    signing_key_reload_seconds: float = Field(
        default=5, gt=0, description="how often an instance reads the signing keys again"
    )

    # OWASP's minimum for Argon2id is m=19 MiB, t=2, p=1; lower values are refused.
    argon2_memory_cost: int = Field(default=19_456, ge=19_456, description="KiB, at least 19456")
    argon2_time_cost: int = Field(default=2, ge=2, description="iterations, at least 2")
    argon2_parallelism: int = Field(default=1, ge=1, description="lanes, at least 1")

    cors_origins: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description=(
            "comma-separated allowlist (default `http://localhost:3000,http://localhost:5173` "
            "outside"
            " production, none in it); also the origins allowed to refresh by cookie besides the "
            "server's own"
        ),
    )

    # Shared state: rate-limit counters and the token denylist live here when set.
    redis_url: str | None = Field(
        default=None,
        description=(
            "e.g. `redis://127.0.0.1:6379/0`; shared rate limits, identity state, token denylist "
            "and "
            "response cache. Unset: each process keeps its own"
        ),
    )
    redis_key_prefix: str = Field(
        default="taskyard", description="namespace for every key Taskyard writes"
    )
    # Per process, all opened at start: past them, a command queues for a free one (a burst is
    # no outage), then fails open.
    redis_max_connections: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description=(
            "Redis connections per process, all opened at start; past them a command queues for "
            "one (up to 5 s, then the cache and limits fail open)"
        ),
    )

    rate_limit_enabled: bool = Field(
        default=True, description="the rate limiter; off, nothing is counted"
    )
    rate_limit: str = Field(
        default="100/15minutes", description="per user, or per IP when anonymous"
    )
    rate_limit_admin: str = Field(default="1000/15minutes", description="per admin")
    # Sign-in budgets, each in its own bucket so an office behind one address isn't locked out:
    # login per address and email, a ceiling per address (credential stuffing), registration
    # per address, and refresh per login session.
    rate_limit_login: str = Field(
        default="10/15minutes", description="logins per client IP and email"
    )
    rate_limit_login_ip: str = Field(
        default="100/15minutes", description="logins per client IP, whatever the email"
    )
    rate_limit_register: str = Field(default="20/hour", description="registrations per client IP")
    rate_limit_refresh: str = Field(
        default="60/15minutes", description="refreshes per login session"
    )
    rate_limit_strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = Field(
        default="sliding-window-counter",
        description="or `moving-window`, `fixed-window` (through the `limits` library; only the "
        "default shares the identity check's Redis round trip)",
    )
    # Addresses (or networks) of proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated addresses or networks whose `X-Forwarded-*` is believed",
    )
    # After this many failed logins for one email or from one address within the window, login
    # and register need a solved proof-of-work challenge (0: never).
    challenge_after_failures: int = Field(
        default=5,
        ge=0,
        description=(
            "failed logins (per email or address) before login and register need a solved "
            "challenge; "
            "0: never"
        ),
    )
    challenge_window_seconds: int = Field(
        default=900, ge=1, description="the window those failures are counted in"
    )
    challenge_ttl_seconds: int = Field(
        default=300, ge=10, description="how long a challenge can be solved"
    )
    challenge_cost: int = Field(
        default=5_000,
        ge=1,
        description="PBKDF2 iterations per attempt (about a second's work in a browser)",
    )

    cache_enabled: bool = Field(default=True, description="the response cache")
    # At most a day: version counters are kept a week past their last use (cache/backend.py).
    cache_ttl: int = Field(
        default=300, ge=1, le=86_400, description="seconds a cached response lives (at most 86400)"
    )
    # After writing, a person's reads stay on the primary this long (replicas may lag).
    read_your_writes_seconds: float = Field(
        default=5.0, ge=0, description="how long a writer's reads stay on the primary"
    )
    database_replica_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated PostgreSQL replicas that serve reads"
    )

    broker_url: str | None = Field(
        default=None, description="`amqp://user:pass@host:5672/`; then run `taskyard worker`"
    )
    # Where people reach the web client: absolute links in emails start here.
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description=(
            "where people open the web client; links in emails start here (the export-ready mail "
            "links to the client's page for that export, which downloads it with the person's "
            "session). Set it in production"
        ),
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="`smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…`",
    )
    mail_from: str = Field(
        default="Taskyard <no-reply@taskyard.local>", description="sender of every email"
    )
    outbox_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often the relay looks (it is also woken by each commit)"
    )
    broker_prefix: str = Field(default="taskyard", description="names of the exchange and queues")
    # Quorum queues (replicated by Raft across a RabbitMQ cluster) instead of classic ones.
    broker_quorum: bool = Field(
        default=False,
        description=(
            "declare every queue as a quorum queue (replicated across a RabbitMQ cluster; see "
            "`docs/scaling.md`). A queue can't change type in place: switch with a new prefix, or "
            "drain and delete the old queues"
        ),
    )
    export_ttl_seconds: int = Field(
        default=86_400, ge=60, description="how long export files are kept"
    )
    due_scan_seconds: float = Field(
        default=60.0, gt=0, description="how often due-soon reminders are looked for"
    )
    worker_prefetch: int = Field(default=16, ge=1, description="unacked messages per worker")
    job_max_attempts: int = Field(
        default=5,
        ge=1,
        description=(
            "tries before the dead-letter queue (or, without a broker, the outbox's dead letters)"
        ),
    )
    job_retry_base_seconds: float = Field(
        default=1.0, gt=0, description="retry n waits 2^n times this"
    )

    live_replay_seconds: int = Field(
        default=600,
        ge=300,
        description=(
            "how far back a reconnecting event stream can catch up (`Last-Event-ID`); older, it "
            "is told to `resync`"
        ),
    )
    live_heartbeat_seconds: float = Field(
        default=15,
        gt=0,
        le=60,
        description=(
            "an event stream's keep-alive comment; each also checks the caller is still signed "
            "in, so logout, deactivation and revocation end streams within it"
        ),
    )
    live_ticket_seconds: int = Field(
        default=30, ge=5, le=300, description="how long a single-use event-stream ticket lives"
    )

    webhook_allow_private: bool = Field(
        default=False,
        description=(
            "let webhooks reach loopback, private, link-local and multicast addresses (tests, "
            "and private networks that trust every project admin); off, such a URL is refused "
            "when registered and again at each delivery"
        ),
    )
    webhook_timeout_seconds: float = Field(
        default=5, gt=0, le=30, description="how long a webhook delivery waits for an answer"
    )
    webhook_retry_base_seconds: float = Field(
        default=5,
        gt=0,
        description="the first retry's wait; each next one waits three times longer (at most 6 h)",
    )
    webhook_give_up_seconds: float = Field(
        default=86_400,
        gt=0,
        description=(
            "how long a delivery is retried before it is given up; a webhook whose deliveries "
            "have all failed this long is deactivated, and its project's admins are mailed"
        ),
    )
    webhook_poll_seconds: float = Field(
        default=0.5, gt=0, description="how often the sender looks for deliveries that are due"
    )

    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="larger request bodies get a 413"
    )
    compression_min_bytes: int = Field(
        default=1024, ge=0, description="smallest body worth gzipping"
    )
    shutdown_timeout: float = Field(
        default=20, gt=0, description="seconds that in-flight requests get on SIGTERM"
    )
    # Longer than any proxy in front keeps an idle connection to us (nginx's upstream
    # `keepalive_timeout` in deploy/ is 60 s): else the proxy can send a request down a connection
    # this server is closing, and a POST that meets the close is a 502, never retried.
    keep_alive_timeout: float = Field(
        default=75,
        ge=1,
        le=3600,
        description="seconds an idle client connection stays open; keep it above the proxy's "
        "upstream keep-alive timeout",
    )

    # The built web client (frontend/ builds into the package); unset or missing: API only.
    web_dir: Path | None = Field(
        default=DEFAULT_WEB_DIR,
        description="the built web client; when it holds no `index.html`, only the API is served",
    )

    log_level: str = Field(default="info", description="`debug`, `info`, `warning` or `error`")
    log_format: Literal["json", "console"] = Field(
        default="json", description="`json` (one line a record) or `console` (for people)"
    )
    sentry_dsn: SecretStr | None = Field(
        default=None, description="enables Sentry (needs the `sentry` extra)"
    )
    # Where the operations panel reads cluster-wide figures (every instance), if set.
    prometheus_url: str | None = Field(
        default=None,
        description="the operations panel's cluster-wide figures, from this Prometheus",
    )

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


SettingGroup = Literal[
    "process",
    "database",
    "tokens",
    "passwords",
    "redis",
    "limits",
    "cache",
    "jobs",
    "live",
    "mail",
    "http",
]

# Each setting's group, by how its name starts (the first group that fits): a command's help
# lists the variables of the groups it reads, and docs/configuration.md has a section a group.
SETTING_GROUPS: dict[SettingGroup, tuple[str, tuple[str, ...]]] = {
    "process": ("The process", ("env", "service", "log_", "sentry_")),
    "database": ("The database", ("database_", "db_")),
    "tokens": (
        "Tokens and sessions",
        ("secret_key", "auth_jwks_url", "access_token_", "refresh_", "jwt_", "signing_key_"),
    ),
    "passwords": ("Password hashing", ("argon2_",)),
    "redis": ("Redis", ("redis_",)),
    "limits": ("Rate limits and sign-in challenges", ("rate_limit", "challenge_")),
    "cache": ("The response cache", ("cache_", "read_your_writes_")),
    "jobs": (
        "Events, jobs and exports",
        ("broker_", "outbox_", "worker_", "job_", "due_scan_", "export_"),
    ),
    "live": ("Live updates and webhooks", ("live_", "webhook_")),
    "mail": ("Mail", ("smtp_", "mail_", "public_url")),
    "http": (
        "HTTP serving",
        (
            "cors_",
            "trusted_",
            "max_body_",
            "compression_",
            "shutdown_",
            "keep_alive_",
            "web_dir",
            "prometheus_",
        ),
    ),
}


def setting_group(name: str) -> SettingGroup:
    for group, (_title, starts) in SETTING_GROUPS.items():
        if name.startswith(starts):
            return group
    raise KeyError(f"the setting {name} belongs to no group: add it to SETTING_GROUPS")


def settings_in(group: SettingGroup) -> list[str]:
    """The variables of a group's settings, in the order `Settings` declares them."""
    return [
        f"TASKYARD_{name.upper()}" for name in Settings.model_fields if setting_group(name) == group
    ]
