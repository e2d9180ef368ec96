from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.db import DbSession
from taskyard.exports.repository import ExportRepository
from taskyard.exports.service import ExportService
from taskyard.jobs.service import EventPublisher
from taskyard.services import ServicesDep
from taskyard.tasks.repository import TaskRepository


async def get_export_service(services: ServicesDep, session: DbSession) -> ExportService:
    return ExportService(
        ExportRepository(session),
        TaskRepository(session),
        EventPublisher(session, services.wake_relays),
        ttl_seconds=services.settings.export_ttl_seconds,
    )


ExportServiceDep = Annotated[ExportService, Depends(get_export_service)]
