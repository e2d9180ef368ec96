from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
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

    async def mark_running(self, export_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Export)
            .where(Export.id == export_id, Export.status == ExportStatus.QUEUED)
            .values(status=ExportStatus.RUNNING)
        )

    async def delete_expired(self, now: datetime) -> int:
        result = await self.session.execute(delete(Export).where(Export.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)
