"""The rules for a project's webhooks: only its admins manage them; their URLs must be safe to
call; the signing secret is shown once."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from taskyard.db import utc_now
from taskyard.errors import NotFound, ValidationFailed
from taskyard.identity import Viewer
from taskyard.projects.models import ProjectRole
from taskyard.projects.repository import ProjectRepository
from taskyard.projects.service import PersonalProjectIsPrivate, role_required
from taskyard.schemas import PageQuery, format_timestamp
from taskyard.webhooks.guard import UnsafeUrl, check_destination
from taskyard.webhooks.jobs import now_seq
from taskyard.webhooks.models import Webhook, WebhookDelivery
from taskyard.webhooks.repository import WebhookRepository
from taskyard.webhooks.schemas import PING, WebhookCreate, WebhookUpdate, stored_events

SECRET_BYTES = 24


class WebhookNotFound(NotFound):
    message = "Webhook not found"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class WebhookService:
    def __init__(
        self,
        webhooks: WebhookRepository,
        projects: ProjectRepository,
        *,
        allow_private: bool,
    ) -> None:
        self.webhooks = webhooks
        self.projects = projects
        self.allow_private = allow_private

    async def _managed(self, project_id: uuid.UUID, viewer: Viewer) -> None:
        """Only the project's admins and owner see and manage its webhooks."""
        await role_required(self.projects, project_id, viewer, ProjectRole.ADMIN)

    async def _webhook(
        self, project_id: uuid.UUID, webhook_id: uuid.UUID, viewer: Viewer
    ) -> Webhook:
        await self._managed(project_id, viewer)
        webhook = await self.webhooks.get(project_id, webhook_id)
        if webhook is None:
            raise WebhookNotFound()
        return webhook

    async def _safe(self, url: str) -> str:
        try:
            await check_destination(url, allow_private=self.allow_private)
        except UnsafeUrl as refusal:
            raise ValidationFailed("url", str(refusal)) from refusal
        return url

    async def create(self, project_id: uuid.UUID, viewer: Viewer, data: WebhookCreate) -> Webhook:
        await self._managed(project_id, viewer)
        project = await self.projects.get(project_id)
        if project is not None and project.is_inbox:
            raise PersonalProjectIsPrivate()
        webhook = Webhook(
            project_id=project_id,
            url=await self._safe(data.url),
            events=stored_events(data.events),
            secret=new_secret(),
            active=True,
            created_by_id=viewer.id,
        )
        await self.webhooks.add(webhook)
        return webhook

    async def of_project(self, project_id: uuid.UUID, viewer: Viewer) -> Sequence[Webhook]:
        await self._managed(project_id, viewer)
        return await self.webhooks.of_project(project_id)

    async def get(self, project_id: uuid.UUID, webhook_id: uuid.UUID, viewer: Viewer) -> Webhook:
        return await self._webhook(project_id, webhook_id, viewer)

    async def update(
        self,
        project_id: uuid.UUID,
        webhook_id: uuid.UUID,
        viewer: Viewer,
        changes: WebhookUpdate,
    ) -> Webhook:
        webhook = await self._webhook(project_id, webhook_id, viewer)
        sent = changes.changes()
        if "url" in sent:
            webhook.url = await self._safe(sent["url"])
        if "events" in sent:
            webhook.events = stored_events(sent["events"])
        if "active" in sent:
            webhook.active = sent["active"]
            if webhook.active:  # switched on again: its failures so far are forgiven
                webhook.failing_since = None
                webhook.disabled_reason = None
        webhook.updated_at = utc_now()
        await self.webhooks.flush()
        return webhook

    async def delete(self, project_id: uuid.UUID, webhook_id: uuid.UUID, viewer: Viewer) -> None:
        await self.webhooks.delete(await self._webhook(project_id, webhook_id, viewer))

    async def ping(
        self, project_id: uuid.UUID, webhook_id: uuid.UUID, viewer: Viewer
    ) -> WebhookDelivery:
        """Queue a `ping`, sent as every delivery is (in order, signed, retried)."""
        webhook = await self._webhook(project_id, webhook_id, viewer)
        body: dict[str, Any] = {
            "type": PING,
            "projectId": str(project_id),
            "taskId": None,
            "actorId": str(viewer.id),
            "at": format_timestamp(utc_now()),
            "data": {"webhookId": str(webhook.id)},
        }
        delivery = WebhookDelivery(
            id=uuid.uuid4(),
            webhook_id=webhook.id,
            seq=now_seq(),
            event_type=PING,
            payload=json.dumps(body, separators=(",", ":")),
        )
        await self.webhooks.enqueue([delivery])
        return delivery

    async def attempts(
        self, project_id: uuid.UUID, webhook_id: uuid.UUID, viewer: Viewer, query: PageQuery
    ) -> tuple[Sequence[Any], int]:
        await self._webhook(project_id, webhook_id, viewer)
        return await self.webhooks.attempts(webhook_id, limit=query.limit, offset=query.offset)
