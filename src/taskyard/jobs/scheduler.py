"""Runs the periodic jobs the domains registered (reminder scans, purges), one round after
another. Each job must be safe with several workers running it at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from taskyard.db import Database, is_outage
from taskyard.jobs.registry import Background, EventRegistry
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
        """The rounds, and each background loop beside them for as long as they run."""
        loops = [
            asyncio.create_task(self._keep_running(name, loop))
            for name, loop in self.registry.background.items()
        ]
        try:
            await self._rounds()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _keep_running(self, name: str, loop: Background) -> None:
        while True:
            try:
                await loop(self.database)
            except Exception:  # a loop that fails is started again, never lost
                logger.exception("background loop failed; starting it again", loop=name)
                await asyncio.sleep(min(self.interval_seconds, 5.0))

    async def _rounds(self) -> None:
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
