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
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from pydantic import BaseModel, ValidationError

from taskyard.auth.passwords import PasswordService
from taskyard.config import Settings
from taskyard.db import Database
from taskyard.edge.metrics import MULTIPROCESS_ENV
from taskyard.jobs.repository import OutboxRepository
from taskyard.jobs.worker import broker_for, run_worker
from taskyard.logging import configure_logging, get_logger
from taskyard.migrations import upgrade
from taskyard.users.models import Role, User
from taskyard.users.repository import EmailTaken, UserRepository
from taskyard.users.schemas import Email, Password, PersonName
from taskyard.web.router import find_client

logger = get_logger("taskyard.cli")


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
        )
        raise CommandError(f"invalid configuration: {problems}") from error


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
    settings = _load_settings()
    configure_logging(settings)
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
            "build it with `make run` (needs npm) or set TASKYARD_WEB_DIR"
        )
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


def migrate(_args: argparse.Namespace) -> None:
    settings = _load_settings()
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
            await session.commit()
            return user
    finally:
        await database.dispose()


def create_admin(args: argparse.Namespace) -> None:
    settings = _load_settings()
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


def worker(_args: argparse.Namespace) -> None:
    settings = _load_settings()
    configure_logging(settings)
    if settings.broker_url is None:
        raise CommandError(
            "TASKYARD_BROKER_URL is not set: without a broker, `serve` carries events out itself"
        )
    asyncio.run(run_worker(settings))


def dead_letters(args: argparse.Namespace) -> None:
    """Dead letters live in RabbitMQ's dead-letter queue, or without a broker in the outbox."""
    settings = _load_settings()

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskyard", description="Taskyard task-management API")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.set_defaults(handler=serve)

    migrate_parser = commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.set_defaults(handler=migrate)

    admin_parser = commands.add_parser("create-admin", help="create an admin account")
    admin_parser.add_argument("--email", required=True)
    admin_parser.add_argument("--name", required=True)
    admin_parser.add_argument(
        "--password", help="defaults to TASKYARD_ADMIN_PASSWORD, else a prompt"
    )
    admin_parser.set_defaults(handler=create_admin)

    worker_parser = commands.add_parser("worker", help="consume background jobs from the broker")
    worker_parser.set_defaults(handler=worker)

    dead_parser = commands.add_parser(
        "dead-letters", help="count the events that failed every try, or replay them"
    )
    dead_parser.add_argument("--replay", action="store_true", help="re-queue them")
    dead_parser.add_argument("--limit", type=int, default=None)
    dead_parser.set_defaults(handler=dead_letters)

    openapi_parser = commands.add_parser("openapi", help="print the OpenAPI document")
    openapi_parser.set_defaults(handler=openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except CommandError as error:
        print(f"taskyard: {error}", file=sys.stderr)
        raise SystemExit(2) from error


if __name__ == "__main__":
    main()
