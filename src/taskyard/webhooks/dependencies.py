from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from taskyard.db import DbSession
from taskyard.projects.repository import ProjectRepository
from taskyard.services import ServicesDep
from taskyard.webhooks.repository import WebhookRepository
from taskyard.webhooks.service import WebhookService


async def get_webhook_service(services: ServicesDep, session: DbSession) -> WebhookService:
    return WebhookService(
        WebhookRepository(session),
        ProjectRepository(session),
        allow_private=services.settings.webhook_allow_private,
    )


WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]
