from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.projects.models import ProjectMember, ProjectRole, ProjectTeam
from taskyard.teams.models import TeamMember
from taskyard.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # The webhooks

    async def add(self, webhook: Webhook) -> None:
        self.session.add(webhook)
        await self.session.flush()

    async def get(self, project_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
        return await self.session.scalar(
            select(Webhook).where(Webhook.id == webhook_id, Webhook.project_id == project_id)
        )

    async def by_id(self, webhook_id: uuid.UUID) -> Webhook | None:
        return await self.session.get(Webhook, webhook_id)

    async def of_project(self, project_id: uuid.UUID) -> Sequence[Webhook]:
        found = await self.session.scalars(
            select(Webhook).where(Webhook.project_id == project_id).order_by(Webhook.created_at)
        )
        return found.all()

    async def listening(self, project_id: uuid.UUID) -> Sequence[Webhook]:
        """The project's active webhooks (each says which events it wants)."""
        found = await self.session.scalars(
            select(Webhook).where(Webhook.project_id == project_id, Webhook.active.is_(True))
        )
        return found.all()

    async def delete(self, webhook: Webhook) -> None:
        await self.session.delete(webhook)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    # Deliveries

    async def enqueue(self, deliveries: list[WebhookDelivery]) -> None:
        self.session.add_all(deliveries)
        await self.session.flush()

    async def lease_due(self, now: datetime, lease: timedelta, limit: int) -> list[uuid.UUID]:
        """Webhooks with a delivery due and no sender on them, taken for `lease`: one sender a
        webhook, so its deliveries go out in order. On PostgreSQL, SKIP LOCKED lets several
        workers take different webhooks side by side."""
        due = (
            select(Webhook.id)
            .where(
                Webhook.active.is_(True),
                (Webhook.leased_until.is_(None)) | (Webhook.leased_until < now),
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.webhook_id == Webhook.id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                )
                .exists(),
            )
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=Webhook)
        ids = list((await self.session.scalars(due)).all())
        if ids:
            await self.session.execute(
                update(Webhook).where(Webhook.id.in_(ids)).values(leased_until=now + lease)
            )
        return ids

    async def renew(self, webhook_id: uuid.UUID, until: datetime) -> None:
        await self.session.execute(
            update(Webhook).where(Webhook.id == webhook_id).values(leased_until=until)
        )

    async def release(self, webhook_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Webhook).where(Webhook.id == webhook_id).values(leased_until=None)
        )

    async def head(self, webhook_id: uuid.UUID) -> WebhookDelivery | None:
        """The oldest delivery still to go: the next one to send, whenever it is due."""
        return await self.session.scalar(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .order_by(WebhookDelivery.seq, WebhookDelivery.created_at)
            .limit(1)
        )

    async def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)
        await self.session.flush()

    async def attempts(
        self, webhook_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Any], int]:
        """Every attempt at the webhook's deliveries, newest first, with its delivery."""
        rows = await self.session.execute(
            select(WebhookAttempt, WebhookDelivery)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count())
            .select_from(WebhookAttempt)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .where(WebhookDelivery.webhook_id == webhook_id)
        )
        return rows.all(), int(total or 0)

    async def purge_before(self, cutoff: datetime) -> int:
        """Deliveries (and their attempts) older than `cutoff` that are no longer pending."""
        deleted = await self.session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.created_at < cutoff,
                WebhookDelivery.status != DeliveryStatus.PENDING,
            )
        )
        return int(getattr(deleted, "rowcount", 0) or 0)

    async def admins_of(self, project_id: uuid.UUID) -> set[uuid.UUID]:
        """Who manages the project: its admins and owner, by name or through a team."""
        managing = (ProjectRole.ADMIN, ProjectRole.OWNER)
        direct = select(ProjectMember.user_id).where(
            ProjectMember.project_id == project_id, ProjectMember.role.in_(managing)
        )
        through_teams = (
            select(TeamMember.user_id)
            .join(ProjectTeam, ProjectTeam.team_id == TeamMember.team_id)
            .where(ProjectTeam.project_id == project_id, ProjectTeam.role.in_(managing))
        )
        return set((await self.session.scalars(direct.union(through_teams))).all())
