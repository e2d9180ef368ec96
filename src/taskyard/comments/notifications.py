"""Mail to someone a comment names."""

from __future__ import annotations

import html
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.comments.events import COMMENT_MENTIONED
from taskyard.comments.models import Comment
from taskyard.jobs.mail import Mail
from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.tasks.models import Task
from taskyard.users.models import User


def mentioned(comment: Comment, task: Task, author: User, recipient: User) -> Mail:
    return Mail(
        to=recipient.email,
        subject=f"{author.name} mentioned you on: {task.title}",
        text=f'Hi {recipient.name},\n\n{author.name} mentioned you on "{task.title}":\n\n'
        f"{comment.body}\n",
        html=f"<p>Hi {html.escape(recipient.name)},</p>"
        f"<p>{html.escape(author.name)} mentioned you on "
        f"<strong>{html.escape(task.title)}</strong>:</p>"
        f"<blockquote>{html.escape(comment.body)}</blockquote>",
    )


async def _mentioned_mail(session: AsyncSession, payload: Payload) -> Mail | None:
    comment = await session.get(Comment, uuid.UUID(payload["comment_id"]))
    recipient = await session.get(User, uuid.UUID(payload["mentioned_id"]))
    if comment is None or recipient is None or not recipient.notifications:
        return None  # deleted since, or they asked for no mail
    task = await session.get(Task, comment.task_id)
    author = await session.get(User, comment.author_id)
    if task is None or author is None:
        return None
    return mentioned(comment, task, author, recipient)


def register(registry: EventRegistry) -> None:
    registry.on_mail(COMMENT_MENTIONED, _mentioned_mail)
