from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from taskyard.db import utc_now
from taskyard.errors import Conflict, Forbidden, NotFound, TooManyRequests
from taskyard.exports.events import EXPORT_READY, EXPORT_REQUESTED
from taskyard.exports.models import Export, ExportFormat, ExportStatus
from taskyard.exports.repository import ExportRepository
from taskyard.exports.schemas import ExportRequest
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
from taskyard.logging import get_logger
from taskyard.schemas import format_timestamp
from taskyard.tasks.models import Task
from taskyard.tasks.repository import TaskFilter, TaskRepository

logger = get_logger("taskyard.exports")

COLUMNS = [
    "id",
    "title",
    "description",
    "status",
    "priority",
    "dueDate",
    "createdBy",
    "assignee",
    "createdAt",
    "updatedAt",
]
CONTENT_TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8", ExportFormat.JSON: "application/json"}


class ExportNotFound(NotFound):
    message = "Export not found"


class ExportNotReady(Conflict):
    message = "The export is not ready yet"


# A person's exports waiting or being built at once: enough for any real use, and few enough
# that nobody can fill the workers' queue (or the dead letters) with them.
MAX_EXPORTS_IN_FLIGHT = 3
# An export still unfinished after this long no longer counts against that (its worker died
# with it, say): it can't block its owner for good.
IN_FLIGHT_HORIZON = timedelta(hours=1)
RETRY_EXPORT_AFTER_SECONDS = 5
# What the person reads about an export that failed; the technical cause goes to the log.
UNBUILDABLE = "These tasks could not be written to the file. Try other filters or the other format."
GAVE_UP = "The export could not be built after several tries. Please try again later."


class TooManyExports(TooManyRequests):
    message = f"You have {MAX_EXPORTS_IN_FLIGHT} exports in progress; wait for one to finish first"

    def __init__(self) -> None:
        super().__init__({"Retry-After": str(RETRY_EXPORT_AFTER_SECONDS)})


def _row(task: Task) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "title": task.title,
        "description": task.description,
        "status": task.status.value,
        "priority": task.priority.value,
        "dueDate": format_timestamp(task.due_date) if task.due_date else None,
        "createdBy": task.owner.email,
        "assignee": task.assignee.email if task.assignee else None,
        "createdAt": format_timestamp(task.created_at),
        "updatedAt": format_timestamp(task.updated_at),
    }


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows as text: formula triggers get a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def render(tasks: Sequence[Task], export_format: ExportFormat) -> bytes:
    rows = [_row(task) for task in tasks]
    if export_format is ExportFormat.JSON:
        return json.dumps(rows, ensure_ascii=False).encode()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue().encode()


class ExportService:
    def __init__(
        self,
        exports: ExportRepository,
        tasks: TaskRepository,
        events: EventPublisher,
        *,
        ttl_seconds: int,
    ) -> None:
        self.exports = exports
        self.tasks = tasks
        self.events = events
        self.ttl = timedelta(seconds=ttl_seconds)

    async def request(self, user: Viewer, data: ExportRequest) -> Export:
        if data.scope == "all" and not user.is_admin:
            raise Forbidden("Only admins may export everyone's tasks")
        in_flight = await self.exports.count_in_flight(user.id, utc_now() - IN_FLIGHT_HORIZON)
        if in_flight >= MAX_EXPORTS_IN_FLIGHT:
            raise TooManyExports()
        export = Export(
            owner_id=user.id,
            format=data.format,
            everyone=data.scope == "all",
            filters=data.model_dump(include={"status", "priority", "search"}, mode="json"),
            expires_at=utc_now() + self.ttl,
            content_type=CONTENT_TYPES[data.format],
        )
        await self.exports.add(export)
        self.events.emit(EXPORT_REQUESTED, {"export_id": str(export.id)})
        return export

    async def get(
        self, export_id: uuid.UUID, user: Viewer, *, with_content: bool = False
    ) -> Export:
        export = await self.exports.get_owned(
            export_id, user.id, utc_now(), with_content=with_content
        )
        if export is None:
            raise ExportNotFound()
        return export

    async def content(self, export_id: uuid.UUID, user: Viewer) -> Export:
        export = await self.get(export_id, user, with_content=True)
        if export.status is not ExportStatus.DONE or export.content is None:
            raise ExportNotReady()
        return export

    async def build(self, export_id: uuid.UUID) -> bool:
        """Produce the file; False when there is nothing (left) to do."""
        export = await self.exports.get(export_id)
        if export is None or export.status in {ExportStatus.DONE, ExportStatus.FAILED}:
            return False
        task_filter = TaskFilter(
            owner_id=None if export.everyone else export.owner_id,
            status=export.filters.get("status"),
            priority=export.filters.get("priority"),
            search=export.filters.get("search"),
        )
        tasks = await self.tasks.all_matching(task_filter)
        export.finished_at = utc_now()
        try:
            export.content = render(tasks, export.format)
        except (ValueError, TypeError, UnicodeError) as error:
            # The same data would fail the same way again: report it instead of retrying.
            logger.warning(
                "export could not be rendered", export_id=str(export.id), error=repr(error)
            )
            export.status = ExportStatus.FAILED
            export.error = UNBUILDABLE
            return True
        export.row_count = len(tasks)
        export.status = ExportStatus.DONE
        self.events.emit(EXPORT_READY, {"export_id": str(export.id)})
        return True
