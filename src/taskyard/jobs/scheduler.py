"""Runs the periodic jobs the domains registered (reminder scans, purges), one round after
another. Each job must be safe with several workers running it at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from taskyard.db import Database, is_outage
from taskyard.jobs.registry import EventRegistry
from taskyard.logging import get_logger

logger = get_logger("taskyard.scheduler")


class PeriodicJobs:
    def __init__(
        self,
        database: Database,
        registry: EventRegistry,
        *,
        interval_seconds: float,
        after_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.interval_seconds = interval_seconds
        # Embedded: wakes this process's relay, so what a round emitted goes out at once.
        self.after_round = after_round

    async def run_forever(self) -> None:
        while True:
            for name, job in self.registry.periodic.items():
                try:
                    await job(self.database)
                except Exception as error:  # the database may be briefly away: next round
                    if is_outage(error):  # one line per outage, from the guard, no traceback
                        self.database.outage.record_failure(name, error)
                    else:
                        logger.exception("periodic job failed", job=name)
            if self.after_round is not None:
                await self.after_round()
            await asyncio.sleep(self.interval_seconds)
