"""The `taskyard` command: serve, migrate, create-admin, worker, dead-letters, openapi."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import uvicorn
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_before_delay,
    stop_never,
    wait_exponential,
)

from taskyard import __version__
from taskyard.config import Settings
from taskyard.db import Database
from taskyard.edge.metrics import MULTIPROCESS_ENV
from taskyard.identity.roles import Role
from taskyard.jobs.repository import OutboxRepository
from taskyard.jobs.service import EventPublisher
from taskyard.jobs.worker import broker_for, run_worker
from taskyard.logging import configure_logging, get_logger
from taskyard.migrations import upgrade
from taskyard.startup_checks import Problem, broker_problem, database_problem, redis_problem
from taskyard.users.feed import feed_for
from taskyard.users.models import User
from taskyard.users.repository import EmailTaken, UserRepository
from taskyard.users.schemas import Email, Password, PersonName
from taskyard.web.router import find_client
from taskyard.wiring import event_registry

logger = get_logger("taskyard.cli")
MAX_RETRY_SECONDS = 30.0


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def _load_settings(args: argparse.Namespace | None = None) -> Settings:
    service = getattr(args, "service", None)
    if service is not None:
        # Through the environment, so that every `serve` worker process is the same service.
        os.environ["TASKYARD_SERVICE"] = service
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{_variable(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise CommandError(problems) from error


def _variable(location: tuple[int | str, ...]) -> str:
    """The environment variable a settings error is about."""
    field = str(location[0]) if location else ""
    return f"TASKYARD_{field.upper()}" if field else "settings"


def _service_problems(
    settings: Settings, *, database: bool = True, redis: bool = False, broker: bool = False
) -> list[Problem]:
    """What stands between this command and its services, each as one line."""

    async def check() -> list[Problem | None]:
        checks = []
        if database:
            checks.append(database_problem(settings.database_url))
        if redis and settings.redis_url:
            checks.append(redis_problem(settings.redis_url))
        if broker and settings.broker_url:
            checks.append(broker_problem(settings.broker_url))
        return list(await asyncio.gather(*checks))

    return [problem for problem in asyncio.run(check()) if problem is not None]


def _require_services(settings: Settings, **which: bool) -> None:
    """A one-shot command can't wait: any problem ends it."""
    problems = _service_problems(settings, **which)
    if problems:
        raise CommandError("; ".join(map(str, problems)))


def _refuse_permanent(problems: list[Problem]) -> list[Problem]:
    """Settings that can never work end any command; the rest (services not answering yet) are
    returned for a long-running command to wait out."""
    permanent = [problem for problem in problems if problem.permanent]
    if permanent:
        raise CommandError("; ".join(map(str, permanent)))
    return problems


def _wait_for_services(settings: Settings, *, deadline: float | None = None, **which: bool) -> None:
    """Wait out services that don't answer yet (backing off), until `deadline` (monotonic) if
    given; settings that can never work end the command at once."""

    def still_waiting() -> list[Problem]:
        return _refuse_permanent(_service_problems(settings, **which))

    def log(state: RetryCallState) -> None:
        waiting = state.outcome.result() if state.outcome is not None else []
        delay = state.next_action.sleep if state.next_action is not None else 0
        for problem in waiting:
            logger.warning("waiting for a service", problem=str(problem), retry_in=delay)

    def give_up(state: RetryCallState) -> None:
        waiting = state.outcome.result() if state.outcome is not None else []
        raise CommandError("; ".join(map(str, waiting)))

    Retrying(
        retry=retry_if_result(bool),
        wait=wait_exponential(multiplier=1, max=MAX_RETRY_SECONDS),
        stop=stop_never if deadline is None else stop_before_delay(deadline - time.monotonic()),
        before_sleep=log,
        retry_error_callback=give_up,
    )(still_waiting)


def _summary(settings: Settings, workers: int) -> dict[str, object]:
    database = make_url(settings.database_url)
    return {
        "database": f"{database.get_backend_name()} "
        + (
            database.database or ""
            if settings.is_sqlite
            else f"{database.host}:{database.port or 5432}/{database.database}"
        ),
        "replicas": len(settings.database_replica_urls),
        "shared_state": "Redis" if settings.redis_url else "in process",
        "events": "RabbitMQ" if settings.broker_url else "embedded relay",
        "cache": "on" if settings.cache_enabled else "off",
        "rate_limits": (
            ("Redis" if settings.redis_url else "in process")
            if settings.rate_limit_enabled
            else "off"
        ),
        "service": settings.service,
        "workers": workers,
        "token_signing": settings.jwt_signing,
        "web_client": "served" if find_client(settings.web_dir) is not None else "not built",
    }


def _migrate_embedded(settings: Settings) -> None:
    if settings.is_sqlite:
        upgrade(settings.database_url)


def _metrics_directory(workers: int) -> tempfile.TemporaryDirectory[str] | None:
    """Several workers share metrics through files in one directory, fresh for each run."""
    if workers <= 1:
        return None
    configured = os.environ.get(MULTIPROCESS_ENV)
    if configured:
        for stale in Path(configured).glob("*.db"):
            stale.unlink()
        return None
    directory = tempfile.TemporaryDirectory(prefix="taskyard-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory.name
    return directory


def serve(args: argparse.Namespace) -> None:
    settings = _load_settings(args)
    configure_logging(settings)
    waiting = _refuse_permanent(_service_problems(settings, redis=True, broker=True))
    for problem in waiting:  # the API answers 503 (or runs without Redis) until it answers
        logger.warning("a service is not answering at start", problem=str(problem))
    _migrate_embedded(settings)
    if settings.secret_key_generated:
        # Every worker must sign with the same key; it lasts until this server stops.
        os.environ["TASKYARD_SECRET_KEY"] = settings.signing_key
        logger.warning(
            "TASKYARD_SECRET_KEY is not set: using a random key, so tokens end with this process"
        )
    if find_client(settings.web_dir) is None:
        logger.warning(
            "the web client is not built, so only the API is served; "
            "build it with `make web` (needs npm) before installing, or point TASKYARD_WEB_DIR "
            "at a built client"
        )
    logger.info("starting taskyard", **_summary(settings, args.workers))
    metrics_directory = _metrics_directory(args.workers)
    try:
        uvicorn.run(
            "taskyard.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=None,  # our structlog setup, not uvicorn's
            log_level=settings.log_level.lower(),
            access_log=False,  # one line per request comes from the app, with more in it
            server_header=False,
            # Client addresses come from TASKYARD_TRUSTED_PROXIES only, never uvicorn's default.
            proxy_headers=False,
            timeout_graceful_shutdown=int(settings.shutdown_timeout),
        )
    finally:
        if metrics_directory is not None:
            metrics_directory.cleanup()


def openapi(_args: argparse.Namespace) -> None:
    """The OpenAPI document that /api-docs.json serves; the web client's types come from it."""
    from taskyard.app import create_app  # every router and backend: only this command needs them

    document = create_app(_load_settings()).openapi()
    print(json.dumps(document, indent=2, ensure_ascii=False))


def migrate(args: argparse.Namespace) -> None:
    # Each split service's database gets the one schema and uses its part of it.
    settings = _load_settings(args)
    if args.wait:
        configure_logging(settings)
        _wait_for_services(settings, deadline=time.monotonic() + args.wait)
    else:
        _require_services(settings)
    upgrade(settings.database_url)
    print("database is up to date")


class _AdminInput(BaseModel):
    email: Email
    name: PersonName
    password: Password


def _admin_password(given: str | None) -> str:
    password = given or os.environ.get("TASKYARD_ADMIN_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise CommandError(
            "no password: pass --password, set TASKYARD_ADMIN_PASSWORD, or run in a terminal"
        )
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise CommandError("the passwords do not match")
    return password


async def _create_admin(settings: Settings, admin: _AdminInput) -> User:
    from taskyard.auth.passwords import PasswordService  # only where accounts are kept

    database = Database(settings)
    try:
        async with database.session(write=True) as session:
            user = User(
                name=admin.name,
                email=admin.email,
                password_hash=await PasswordService(settings).hash(admin.password),
                role=Role.ADMIN,
                is_active=True,
            )
            await UserRepository(session).add(user)
            # The auth service tells the task service of the new admin (through its outbox).
            feed_for(settings.service, EventPublisher(session)).changed(user)
            await session.commit()
            return user
    finally:
        await database.dispose()


def create_admin(args: argparse.Namespace) -> None:
    settings = _load_settings()
    _require_services(settings)
    _migrate_embedded(settings)
    try:
        admin = _AdminInput(
            email=args.email, name=args.name, password=_admin_password(args.password)
        )
    except ValidationError as error:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())
        raise CommandError(problems) from error
    try:
        user = asyncio.run(_create_admin(settings, admin))
    except EmailTaken as error:
        raise CommandError(f"a user with the email {admin.email} already exists") from error
    print(f"created admin {user.email} ({user.id})")


def rotate_keys(_args: argparse.Namespace) -> None:
    settings = _load_settings()
    _require_services(settings)
    _migrate_embedded(settings)
    if settings.jwt_signing != "ed25519":
        raise CommandError(
            "TASKYARD_JWT_SIGNING is not ed25519: tokens are signed with the secret key, "
            "which is rotated by changing TASKYARD_SECRET_KEY"
        )

    from taskyard.auth.keys import Rotation, rotate

    async def run() -> Rotation:
        database = Database(settings)
        try:
            return await rotate(
                database,
                settings.signing_key,
                lead=timedelta(seconds=settings.signing_key_lead_seconds),
                token_ttl=timedelta(seconds=settings.access_token_ttl),
            )
        finally:
            await database.dispose()

    rotation = asyncio.run(run())
    print(
        f"new signing key {rotation.kid}: published now, signs from "
        f"{rotation.signs_from.isoformat()}; the keys before it stay published until "
        f"{rotation.previous_retire_after.isoformat()}"
    )


def worker(args: argparse.Namespace) -> None:
    settings = _load_settings(args)
    configure_logging(settings)
    if settings.broker_url is None:
        raise CommandError(
            "TASKYARD_BROKER_URL is not set: without a broker, `serve` carries events out itself"
        )
    _wait_for_services(settings, broker=True)
    asyncio.run(run_worker(settings, event_registry(settings)))


def dead_letters(args: argparse.Namespace) -> None:
    """Dead letters live in RabbitMQ's dead-letter queue, or without a broker in the outbox."""
    settings = _load_settings()
    if settings.broker_url is not None:
        _require_services(settings, database=False, broker=True)
    else:
        _require_services(settings)

    async def from_broker() -> None:
        broker = broker_for(settings)
        await broker.connect()
        try:
            if args.replay:
                moved = await broker.replay_dead_letters(args.limit)
                print(f"replayed {moved} dead letter(s) to {broker.queue_name}")
            else:
                print(f"{await broker.dead_letters()} dead letter(s) in {broker.dead_queue_name}")
        finally:
            await broker.close()

    async def from_outbox() -> None:
        database = Database(settings)
        try:
            async with database.session(write=True) as session:
                outbox = OutboxRepository(session)
                if args.replay:
                    moved = await outbox.replay_dead(args.limit)
                    await session.commit()
                    print(f"replayed {moved} dead letter(s) from the outbox")
                else:
                    print(f"{await outbox.dead_count()} dead letter(s) in the outbox")
        finally:
            await database.dispose()

    asyncio.run(from_broker() if settings.broker_url is not None else from_outbox())


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown beside each option; descriptions and epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:  # flags, and "not given"
            return action.help
        return super()._get_help_string(action)


_CONFIGURATION_PAGE = "Every variable, its default and meaning: docs/configuration.md."
# What each command reads from the environment (besides TASKYARD_LOG_LEVEL and _LOG_FORMAT).
_READS: dict[str, tuple[str, ...]] = {
    "serve": (
        "TASKYARD_SERVICE",
        "TASKYARD_AUTH_JWKS_URL",
        "TASKYARD_DATABASE_URL",
        "TASKYARD_DATABASE_REPLICA_URLS",
        "TASKYARD_REDIS_URL",
        "TASKYARD_BROKER_URL",
        "TASKYARD_SECRET_KEY",
        "TASKYARD_ENV",
        "TASKYARD_SMTP_URL",
        "TASKYARD_PUBLIC_URL",
        "TASKYARD_WEB_DIR",
        "TASKYARD_CORS_ORIGINS",
        "TASKYARD_TRUSTED_PROXIES",
        "TASKYARD_RATE_LIMIT*",
        "TASKYARD_CACHE_*",
        "TASKYARD_DB_*",
        "and every other TASKYARD_* setting",
    ),
    "migrate": ("TASKYARD_SERVICE", "TASKYARD_DATABASE_URL"),
    "rotate-keys": (
        "TASKYARD_DATABASE_URL",
        "TASKYARD_SECRET_KEY",
        "TASKYARD_SIGNING_KEY_LEAD_SECONDS",
        "TASKYARD_ACCESS_TOKEN_TTL",
    ),
    "create-admin": (
        "TASKYARD_DATABASE_URL",
        "TASKYARD_ADMIN_PASSWORD",
        "TASKYARD_ARGON2_*",
    ),
    "worker": (
        "TASKYARD_SERVICE",
        "TASKYARD_BROKER_URL",
        "TASKYARD_BROKER_PREFIX",
        "TASKYARD_DATABASE_URL",
        "TASKYARD_SMTP_URL",
        "TASKYARD_MAIL_FROM",
        "TASKYARD_PUBLIC_URL",
        "TASKYARD_WORKER_PREFETCH",
        "TASKYARD_JOB_MAX_ATTEMPTS",
        "TASKYARD_JOB_RETRY_BASE_SECONDS",
        "TASKYARD_DUE_SCAN_SECONDS",
    ),
    "dead-letters": (
        "TASKYARD_BROKER_URL",
        "TASKYARD_BROKER_PREFIX",
        "TASKYARD_DATABASE_URL",
    ),
    "openapi": ("TASKYARD_WEB_DIR",),
}


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    handler: Callable[[argparse.Namespace], None],
) -> argparse.ArgumentParser:
    reads = "\n".join(f"  {variable}" for variable in _READS[name])
    parser = commands.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"Reads:\n{reads}\n\n{_CONFIGURATION_PAGE}",
        formatter_class=_HelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def _service_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        choices=["all", "auth", "tasks"],
        default=None,
        help="all: the one service; auth or tasks: one of the split services, each with its own "
        "database (default: TASKYARD_SERVICE, else all)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskyard",
        description="Taskyard: a task-management API built to scale out.",
        epilog="`taskyard COMMAND --help` says what a command does and which variables it "
        "reads. " + _CONFIGURATION_PAGE,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"taskyard {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of a failure (as TASKYARD_LOG_LEVEL=debug does)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve_parser = _command(commands, "serve", "serve the API and the web client", serve)
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve_parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (one per core is a good start)"
    )

    _service_option(serve_parser)
    migrate_parser = _command(commands, "migrate", "apply the database migrations", migrate)
    migrate_parser.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the database to answer (as a container started beside "
        "it must); default: fail at once",
    )
    _service_option(migrate_parser)

    admin_parser = _command(commands, "create-admin", "create an admin account", create_admin)
    admin_parser.add_argument("--email", required=True, help="the admin's sign-in email")
    admin_parser.add_argument("--name", required=True, help="the admin's display name")
    admin_parser.add_argument(
        "--password", help="the password; else TASKYARD_ADMIN_PASSWORD, else a prompt"
    )

    _command(
        commands,
        "rotate-keys",
        "start a new Ed25519 signing key (TASKYARD_JWT_SIGNING=ed25519)",
        rotate_keys,
    )

    _service_option(_command(commands, "worker", "consume background jobs from the broker", worker))

    dead_parser = _command(
        commands,
        "dead-letters",
        "count the events that failed every try, or replay them",
        dead_letters,
    )
    dead_parser.add_argument("--replay", action="store_true", help="put them back on the queue")
    dead_parser.add_argument(
        "--limit", type=int, default=None, help="replay at most this many (default: all)"
    )

    _command(commands, "openapi", "print the OpenAPI document", openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return
    debug = args.debug or os.environ.get("TASKYARD_LOG_LEVEL", "").lower() == "debug"
    try:
        args.handler(args)
    except CommandError as error:
        if debug:
            traceback.print_exc()
        print(f"taskyard: {error}", file=sys.stderr)
        raise SystemExit(2) from error


if __name__ == "__main__":
    main()
