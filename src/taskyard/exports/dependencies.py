from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskyard.db import DbSession
from taskyard.exports.repository import ExportRepository
from taskyard.exports.service import ExportService
from taskyard.jobs.service import EventPublisher
from taskyard.tasks.repository import TaskRepository


async def get_export_service(request: Request, session: DbSession) -> ExportService:
    state = request.app.state
    return ExportService(
        ExportRepository(session),
        TaskRepository(session),
        EventPublisher(session, state.relay_wake),
        ttl_seconds=state.settings.export_ttl_seconds,
    )


ExportServiceDep = Annotated[ExportService, Depends(get_export_service)]
