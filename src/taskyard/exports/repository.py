from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from taskyard.exports.models import Export, ExportStatus


class ExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, export: Export) -> Export:
        self.session.add(export)
        await self.session.flush()
        return export

    async def get(self, export_id: uuid.UUID) -> Export | None:
        return await self.session.get(Export, export_id)

    async def get_owned(
        self, export_id: uuid.UUID, owner_id: uuid.UUID, now: datetime, *, with_content: bool
    ) -> Export | None:
        """The owner's export if it has not expired; nobody else's, ever."""
        query = select(Export).where(
            Export.id == export_id, Export.owner_id == owner_id, Export.expires_at > now
        )
        if with_content:
            query = query.options(undefer(Export.content))
        return await self.session.scalar(query)

    async def count_in_flight(self, owner_id: uuid.UUID, since: datetime) -> int:
        """The owner's exports queued or running, requested since then. On PostgreSQL the
        count holds until this transaction ends: two requests can't both take the last place."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"taskyard:exports:{owner_id}"},
            )
        count = await self.session.scalar(
            select(func.count())
            .select_from(Export)
            .where(
                Export.owner_id == owner_id,
                Export.status.in_((ExportStatus.QUEUED, ExportStatus.RUNNING)),
                Export.created_at >= since,
            )
        )
        return int(count or 0)

    async def mark_failed(self, export_id: uuid.UUID, reason: str, now: datetime) -> None:
        """Failed for good, unless it was finished meanwhile."""
        await self.session.execute(
            update(Export)
            .where(
                Export.id == export_id,
                Export.status.in_((ExportStatus.QUEUED, ExportStatus.RUNNING)),
            )
            .values(status=ExportStatus.FAILED, error=reason, finished_at=now)
        )

    async def mark_running(self, export_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Export)
            .where(Export.id == export_id, Export.status == ExportStatus.QUEUED)
            .values(status=ExportStatus.RUNNING)
        )

    async def delete_expired(self, now: datetime) -> int:
        result = await self.session.execute(delete(Export).where(Export.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)
