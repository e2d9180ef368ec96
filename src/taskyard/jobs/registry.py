"""What each event type does, registered by the domain that owns it.

The plumbing (relay, worker, periodic runner) knows only this registry; each domain registers
its mails, its work and its periodic jobs, and the application wires the domains it serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database
from taskyard.jobs.mail import Mail

Payload = dict[str, Any]
# Reads what the mail needs (a read-only session) and returns it, or None when there is nothing
# to tell any more (the task was deleted, the person turned notifications off).
ComposeMail = Callable[[AsyncSession, Payload], Awaitable[Mail | None]]
# Work done in one write transaction, exactly once per event.
DoWork = Callable[[AsyncSession, Payload], Awaitable[None]]
# Runs in a transaction of its own before the work (to show that it has started, say).
Prepare = Callable[[Database, Payload], Awaitable[None]]
# Runs in a transaction of its own once the event has failed every try and is given up (dead-
# lettered): to leave what the work was for in a state that says so. Gets the last error.
GiveUp = Callable[[Database, Payload, str], Awaitable[None]]
# A periodic job: one round of it; the runner repeats it.
PeriodicJob = Callable[[Database], Awaitable[object]]
# A loop that runs as long as the process does, beside the periodic jobs (the webhook sender).
Background = Callable[[Database], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WorkHandler:
    run: DoWork
    prepare: Prepare | None = None
    give_up: GiveUp | None = None


@dataclass
class EventRegistry:
    mails: dict[str, ComposeMail] = field(default_factory=dict)
    work: dict[str, WorkHandler] = field(default_factory=dict)
    periodic: dict[str, PeriodicJob] = field(default_factory=dict)
    background: dict[str, Background] = field(default_factory=dict)

    def _unclaimed(self, event_type: str) -> None:
        if event_type in self.mails or event_type in self.work:
            raise ValueError(f"event type {event_type!r} is registered twice")

    def on_mail(self, event_type: str, compose: ComposeMail) -> None:
        self._unclaimed(event_type)
        self.mails[event_type] = compose

    def on_work(
        self,
        event_type: str,
        run: DoWork,
        *,
        prepare: Prepare | None = None,
        give_up: GiveUp | None = None,
    ) -> None:
        self._unclaimed(event_type)
        self.work[event_type] = WorkHandler(run, prepare, give_up)

    def every_round(self, name: str, job: PeriodicJob) -> None:
        if name in self.periodic:
            raise ValueError(f"periodic job {name!r} is registered twice")
        self.periodic[name] = job

    def keep_running(self, name: str, loop: Background) -> None:
        if name in self.background:
            raise ValueError(f"background loop {name!r} is registered twice")
        self.background[name] = loop

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self.mails) | frozenset(self.work)
