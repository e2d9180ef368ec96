from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import insert_ignoring_conflicts
from taskyard.idempotency.models import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, scope: str, key: str, fingerprint: str, *, now: datetime, expires_at: datetime
    ) -> bool:
        """Take the key for this request; False when another request holds it. A concurrent
        holder's uncommitted row makes this wait for its transaction to end (PostgreSQL's
        unique index; SQLite's single writer), so the loser then finds the stored answer."""
        await self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope,
                IdempotencyRecord.key == key,
                IdempotencyRecord.expires_at <= now,
            )
        )
        claimed = await self.session.execute(
            insert_ignoring_conflicts(self.session, IdempotencyRecord).values(
                scope=scope, key=key, fingerprint=fingerprint, created_at=now, expires_at=expires_at
            )
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]

    async def find(self, scope: str, key: str) -> IdempotencyRecord | None:
        return await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )

    async def complete(self, scope: str, key: str, status_code: int, sealed: bytes) -> None:
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .values(status_code=status_code, sealed_response=sealed)
        )

    async def delete_expired(self, now: datetime) -> int:
        deleted = await self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now)
        )
        return int(deleted.rowcount)  # type: ignore[attr-defined]
