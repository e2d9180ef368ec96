"""What every `taskyard` command shares: how it is declared (its name, options and the settings
it reads, listed in its help from `Settings`), how it loads the settings, and how it checks or
waits for the services it needs. The commands themselves live beside what they drive
(`auth/commands.py`, `jobs/commands.py`); `cli.py` gathers them."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_before_delay,
    stop_never,
    wait_exponential,
)

from taskyard.config import SettingGroup, Settings
from taskyard.logging import get_logger
from taskyard.migrations import upgrade
from taskyard.startup_checks import Problem, broker_problem, database_problem, redis_problem

if TYPE_CHECKING:
    from taskyard.services import Services

logger = get_logger("taskyard.cli")
MAX_RETRY_SECONDS = 30.0


# Builds a process's services (`wiring.build_services`), handed to each command by `cli.py` so
# that no domain's command imports the wiring that imports every domain.
BuildServices = Callable[[Settings], "Services"]


@dataclass(frozen=True)
class Command:
    """A `taskyard` subcommand. `reads`: the groups of settings it reads (its help lists their
    variables, from `Settings`); `variables`: any it reads besides, with what they are for."""

    name: str
    summary: str
    run: Callable[[argparse.Namespace, BuildServices], None]
    reads: tuple[SettingGroup, ...]
    options: Callable[[argparse.ArgumentParser], None] = lambda _parser: None
    variables: dict[str, str] = field(default_factory=dict)


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def load_settings(args: argparse.Namespace | None = None) -> Settings:
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


def service_problems(
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


def require_services(settings: Settings, **which: bool) -> None:
    """A one-shot command can't wait: any problem ends it."""
    problems = service_problems(settings, **which)
    if problems:
        raise CommandError("; ".join(map(str, problems)))


def refuse_permanent(problems: list[Problem]) -> list[Problem]:
    """Settings that can never work end any command; the rest (services not answering yet) are
    returned for a long-running command to wait out."""
    permanent = [problem for problem in problems if problem.permanent]
    if permanent:
        raise CommandError("; ".join(map(str, permanent)))
    return problems


def wait_for_services(settings: Settings, *, deadline: float | None = None, **which: bool) -> None:
    """Wait out services that don't answer yet (backing off), until `deadline` (monotonic) if
    given; settings that can never work end the command at once."""

    def still_waiting() -> list[Problem]:
        return refuse_permanent(service_problems(settings, **which))

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


def migrate_embedded(settings: Settings) -> None:
    if settings.is_sqlite:
        upgrade(settings.database_url)
