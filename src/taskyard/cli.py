"""The `taskyard` command: serve, migrate and worker (the process itself) here; the rest beside
what they drive (`auth/commands.py`, `jobs/commands.py`). Each command's help lists the
variables it reads, generated from `Settings` (`config.SETTING_GROUPS`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from sqlalchemy.engine import make_url

from taskyard import __version__
from taskyard.auth.commands import COMMANDS as ACCOUNT_COMMANDS
from taskyard.commands import (
    BuildServices,
    Command,
    CommandError,
    load_settings,
    migrate_embedded,
    refuse_permanent,
    require_services,
    service_problems,
    wait_for_services,
)
from taskyard.config import SETTING_GROUPS, Settings, settings_in
from taskyard.edge.metrics import MULTIPROCESS_ENV
from taskyard.jobs.commands import COMMANDS as JOB_COMMANDS
from taskyard.jobs.worker import run_worker
from taskyard.logging import configure_logging, get_logger
from taskyard.migrations import upgrade
from taskyard.web.router import find_client
from taskyard.wiring import build_services, event_registry

logger = get_logger("taskyard.cli")


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


def serve(args: argparse.Namespace, _build_services: BuildServices) -> None:
    settings = load_settings(args)
    configure_logging(settings)
    waiting = refuse_permanent(service_problems(settings, redis=True, broker=True))
    for problem in waiting:  # the API answers 503 (or runs without Redis) until it answers
        logger.warning("a service is not answering at start", problem=str(problem))
    migrate_embedded(settings)
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
            timeout_keep_alive=int(settings.keep_alive_timeout),
        )
    finally:
        if metrics_directory is not None:
            metrics_directory.cleanup()


def openapi(_args: argparse.Namespace, _build_services: BuildServices) -> None:
    """The OpenAPI document that /api-docs.json serves; the web client's types come from it."""
    from taskyard.app import create_app  # every router and backend: only this command needs them

    document = create_app(load_settings()).openapi()
    print(json.dumps(document, indent=2, ensure_ascii=False))


def migrate(args: argparse.Namespace, _build_services: BuildServices) -> None:
    # Each split service's database gets the one schema and uses its part of it.
    settings = load_settings(args)
    if args.wait:
        configure_logging(settings)
        wait_for_services(settings, deadline=time.monotonic() + args.wait)
    else:
        require_services(settings)
    upgrade(settings.database_url)
    print("database is up to date")


def worker(args: argparse.Namespace, _build_services: BuildServices) -> None:
    settings = load_settings(args)
    configure_logging(settings)
    if settings.broker_url is None:
        raise CommandError(
            "TASKYARD_BROKER_URL is not set: without a broker, `serve` carries events out itself"
        )
    wait_for_services(settings, broker=True)
    asyncio.run(run_worker(settings, event_registry(settings)))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown beside each option; descriptions and epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:  # flags, and "not given"
            return action.help
        return super()._get_help_string(action)


_CONFIGURATION_PAGE = "Every variable, its default and meaning: docs/configuration.md."


def _service_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        choices=["all", "auth", "tasks"],
        default=None,
        help="all: the one service; auth or tasks: one of the split services, each with its own "
        "database (default: TASKYARD_SERVICE, else all)",
    )


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (one per core is a good start)"
    )
    _service_option(parser)


def _migrate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the database to answer (as a container started beside "
        "it must); default: fail at once",
    )
    _service_option(parser)


COMMANDS = [
    Command(
        "serve",
        "serve the API and the web client",
        serve,
        reads=tuple(SETTING_GROUPS),
        options=_serve_options,
    ),
    Command(
        "migrate",
        "apply the database migrations",
        migrate,
        reads=("process", "database"),
        options=_migrate_options,
    ),
    *ACCOUNT_COMMANDS,
    Command(
        "worker",
        "consume background jobs from the broker",
        worker,
        reads=("process", "database", "jobs", "live", "mail", "redis", "cache", "tokens"),
        options=_service_option,
    ),
    *JOB_COMMANDS,
    Command("openapi", "print the OpenAPI document", openapi, reads=("process", "http")),
]


def reads(command: Command) -> list[str]:
    """The variables a command reads: its groups' settings, then its own."""
    return [
        *(variable for group in command.reads for variable in settings_in(group)),
        *command.variables,
    ]


def _add(commands: argparse._SubParsersAction[argparse.ArgumentParser], command: Command) -> None:
    listed = "\n".join(f"  {variable}" for variable in reads(command))
    parser = commands.add_parser(
        command.name,
        help=command.summary,
        description=command.summary[0].upper() + command.summary[1:] + ".",
        epilog=f"Reads:\n{listed}\n\n{_CONFIGURATION_PAGE}",
        formatter_class=_HelpFormatter,
    )
    command.options(parser)
    parser.set_defaults(handler=command.run)


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
    for command in COMMANDS:
        _add(commands, command)
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
        args.handler(args, build_services)
    except CommandError as error:
        if debug:
            traceback.print_exc()
        print(f"taskyard: {error}", file=sys.stderr)
        raise SystemExit(2) from error


if __name__ == "__main__":
    main()
