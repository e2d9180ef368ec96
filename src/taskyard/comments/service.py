"""Comments on a task: its readers read them, its contributors write them, each author changes
their own, and the project's admins may delete any. An `@email` of someone in on the task
tells them by mail."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from taskyard.activity.models import Action
from taskyard.activity.service import ActivityLog
from taskyard.comments.events import COMMENT_MENTIONED
from taskyard.comments.models import Comment
from taskyard.comments.repository import CommentRepository
from taskyard.comments.schemas import CommentOut, comment_out
from taskyard.errors import Forbidden, NotFound
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
from taskyard.live.events import LiveEventType
from taskyard.live.service import LiveFeed
from taskyard.schemas import PageQuery
from taskyard.tasks.service import TaskService
from taskyard.users.repository import UserRepository

# "@" and an address, not inside a word or an address itself.
MENTION = re.compile(r"(?<![\w.@])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
MAX_MENTIONS = 20


class CommentNotFound(NotFound):
    message = "Comment not found"


class NotYourComment(Forbidden):
    message = "Only its author can change a comment"


class CannotComment(Forbidden):
    message = "Your role in this project does not allow commenting"


class CommentService:
    def __init__(
        self,
        comments: CommentRepository,
        tasks: TaskService,
        users: UserRepository,
        activity: ActivityLog,
        events: EventPublisher,
    ) -> None:
        self.comments = comments
        self.tasks = tasks
        self.users = users
        self.activity = activity
        self.events = events
        self.live = LiveFeed(events)

    async def list(
        self, task_id: uuid.UUID, viewer: Viewer, query: PageQuery
    ) -> tuple[Sequence[Any], int]:
        await self.tasks.get(task_id, viewer)
        return await self.comments.page(task_id, limit=query.limit, offset=query.offset)

    async def create(self, task_id: uuid.UUID, viewer: Viewer, body: str) -> CommentOut:
        task = await self.tasks.get(task_id, viewer)
        if not await self.tasks.may_contribute(task, viewer):
            raise CannotComment()
        comment = Comment(task_id=task.id, author_id=viewer.id, body=body)
        await self.comments.add(comment)
        self.activity.note(task.id, viewer.id, Action.COMMENTED, "comment", None, comment.id)
        await self.activity.flush()
        for person_id in await self._mentioned(task, body, author=viewer.id):
            self.events.emit(
                COMMENT_MENTIONED, {"comment_id": str(comment.id), "mentioned_id": str(person_id)}
            )
        out = comment_out(comment, await self.users.get(viewer.id))
        await self.live.emit(
            LiveEventType.COMMENT_CREATED,
            project_id=task.project_id,
            task_id=task.id,
            actor_id=viewer.id,
            data=out.model_dump(mode="json", by_alias=True),
        )
        return out

    async def update(
        self, task_id: uuid.UUID, comment_id: uuid.UUID, viewer: Viewer, body: str
    ) -> Comment:
        comment = await self._comment(task_id, comment_id, viewer)
        if comment.author_id != viewer.id:
            raise NotYourComment()
        comment.body = body
        await self.comments.flush()
        return comment

    async def delete(self, task_id: uuid.UUID, comment_id: uuid.UUID, viewer: Viewer) -> None:
        comment = await self._comment(task_id, comment_id, viewer)
        if comment.author_id != viewer.id:
            task = await self.tasks.get(task_id, viewer)
            if not await self.tasks.manages(task, viewer):
                raise Forbidden("Only its author or the project's admins can delete a comment")
        await self.comments.delete(comment)

    async def _comment(self, task_id: uuid.UUID, comment_id: uuid.UUID, viewer: Viewer) -> Comment:
        await self.tasks.get(task_id, viewer)
        comment = await self.comments.get(task_id, comment_id)
        if comment is None:
            raise CommentNotFound()
        return comment

    async def _mentioned(self, task: Any, body: str, *, author: uuid.UUID) -> set[uuid.UUID]:
        """The people in on the task whom the comment names by email (not its author)."""
        emails = {match.lower() for match in MENTION.findall(body)}
        people: set[uuid.UUID] = set()
        for email in sorted(emails)[:MAX_MENTIONS]:
            person = await self.users.get_by_email(email)
            if (
                person is not None
                and person.id != author
                and await self.tasks.sees(task, person.id)
            ):
                people.add(person.id)
        return people
