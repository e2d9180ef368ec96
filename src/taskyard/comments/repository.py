from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.comments.models import Comment
from taskyard.users.models import User


class CommentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, task_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Any], int]:
        """A task's comments oldest first, each with its author."""
        rows = await self.session.execute(
            select(Comment, User)
            .join(User, User.id == Comment.author_id)
            .where(Comment.task_id == task_id)
            .order_by(Comment.created_at, Comment.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.task_id == task_id)
        )
        return rows.all(), int(total or 0)

    async def get(self, task_id: uuid.UUID, comment_id: uuid.UUID) -> Comment | None:
        return await self.session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.task_id == task_id)
        )

    async def add(self, comment: Comment) -> None:
        self.session.add(comment)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, comment: Comment) -> None:
        await self.session.execute(delete(Comment).where(Comment.id == comment.id))
        self.session.expunge(comment)
