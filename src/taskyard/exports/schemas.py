from __future__ import annotations

from typing import Literal

from pydantic import Field

from taskyard.exports.models import ExportFormat, ExportStatus
from taskyard.schemas import Resource, StrictInput, Timestamp
from taskyard.tasks.models import TaskPriority, TaskStatus
from taskyard.users.schemas import SearchTerm


class ExportRequest(StrictInput):
    format: ExportFormat
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    search: SearchTerm | None = None
    # "own" (the default) or, for admins only, "all": every user's tasks.
    scope: Literal["own", "all"] = "own"


class ExportOut(Resource):
    status: ExportStatus
    format: ExportFormat
    row_count: int | None
    created_at: Timestamp
    finished_at: Timestamp | None
    expires_at: Timestamp
    error: str | None = Field(
        default=None, description="Why the export failed, in words for its owner (when failed)"
    )
    download_url: str | None = Field(default=None)
