"""The due-soon scan: tasks due within 24 hours, not completed, reminded about once per due date.

Safe with several workers: a reminder is claimed by inserting (task, due date) into
`due_reminders`; only the worker whose insert lands emits the events, in the same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database, is_outage, utc_now
from taskyard.exports.repository import ExportRepository
from taskyard.jobs.events import TASK_DUE_SOON
from taskyard.jobs.models import DueReminder
from taskyard.jobs.service import EventPublisher
from taskyard.logging import get_logger
from taskyard.tasks.models import Task, TaskStatus

logger = get_logger("taskyard.scheduler")
DUE_WINDOW = timedelta(hours=24)
SCAN_BATCH = 500


async def _claim(session: AsyncSession, task: Task) -> bool:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(DueReminder)
        .values(task_id=task.id, due_date=task.due_date, created_at=utc_now())
        .on_conflict_do_nothing()
    )
    return bool(getattr(result, "rowcount", 0) == 1)


class DueSoonScanner:
    def __init__(
        self,
        database: Database,
        *,
        interval_seconds: float,
        on_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.database = database
        self.interval_seconds = interval_seconds
        self.on_commit = on_commit

    async def scan_once(self) -> int:
        """Emit reminders for what falls due soon; the number of tasks newly reminded about."""
        now = utc_now()
        reminded = 0
        async with self.database.session(write=True) as session:
            already = exists().where(
                and_(DueReminder.task_id == Task.id, DueReminder.due_date == Task.due_date)
            )
            due = await session.scalars(
                select(Task)
                .where(
                    Task.due_date.is_not(None),
                    Task.due_date > now,
                    Task.due_date <= now + DUE_WINDOW,
                    Task.status != TaskStatus.COMPLETED,
                    ~already,
                )
                .limit(SCAN_BATCH)
            )
            events = EventPublisher(session)
            for task in due.all():
                if not await _claim(session, task):
                    continue  # another worker got there first
                assert task.due_date is not None
                for recipient in {task.created_by_id, task.assignee_id} - {None}:
                    events.emit(
                        TASK_DUE_SOON,
                        {
                            "task_id": str(task.id),
                            "due_date": task.due_date.isoformat(),
                            "recipient_id": str(recipient),
                        },
                    )
                reminded += 1
            await session.commit()
            if reminded and self.on_commit is not None:
                await self.on_commit()
        return reminded

    async def purge_expired_exports(self) -> int:
        async with self.database.session(write=True) as session:
            purged = await ExportRepository(session).delete_expired(utc_now())
            await session.commit()
        return purged

    async def run_forever(self) -> None:
        while True:
            try:
                await self.scan_once()
                await self.purge_expired_exports()
            except Exception as error:  # the database may be briefly away; scan again next time
                if is_outage(error):  # one line per outage, from the guard, not a traceback
                    self.database.outage.record_failure("due-soon scan", error)
                else:
                    logger.exception("due-soon scan failed")
            await asyncio.sleep(self.interval_seconds)
