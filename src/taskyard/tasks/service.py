from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Row

from taskyard.cache.service import ResponseCache
from taskyard.cursors import CursorCodec, InvalidCursor
from taskyard.db import utc_now
from taskyard.errors import AppError, Forbidden, NotFound, ValidationFailed
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
from taskyard.projects.models import ProjectRole
from taskyard.projects.repository import ProjectRepository
from taskyard.projects.service import ProjectNotFound, RoleTooLow
from taskyard.tasks.events import TASK_ASSIGNED
from taskyard.tasks.models import PRIORITY_RANK, Task, TaskPriority, TaskStatus
from taskyard.tasks.repository import SortOrder, TaskFilter, TaskRepository
from taskyard.tasks.schemas import (
    TITLE_MAX_LENGTH,
    AdminTaskListQuery,
    Assignment,
    GroupCount,
    Precondition,
    TaskCreate,
    TaskListQuery,
    TaskOut,
    TaskStats,
    TaskUpdate,
)
from taskyard.users.catch_up import retrying_while_none
from taskyard.users.models import User
from taskyard.users.repository import UserRepository


class TaskNotFound(NotFound):
    # Also what a caller gets for someone else's task: existence is never revealed.
    message = "Task not found"


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: Sequence[Row[Any]]  # list rows (`LIST_COLUMNS`)
    total: int
    next_cursor: str | None


class OnlyStatusForAssignees(Forbidden):
    message = "An assignee may change only the task's status"


class TaskService:
    def __init__(
        self,
        tasks: TaskRepository,
        users: UserRepository,
        projects: ProjectRepository,
        cursors: CursorCodec,
        cache: ResponseCache,
        events: EventPublisher,
        *,
        people_catch_up_seconds: float = 0.0,
    ) -> None:
        """`people_catch_up_seconds`: in the task service, how long an assignee missing from
        its copy of people is waited for (the `user.changed` event may still be on its way)."""
        self.people_catch_up_seconds = people_catch_up_seconds
        self.tasks = tasks
        self.users = users
        self.projects = projects
        self.events = events
        self.cursors = cursors
        self.cache = cache

    def _changed(self, task: Task, *also: uuid.UUID | None) -> None:
        """Every cached view that could show this task goes stale once this transaction
        commits: its owner's, its assignee's (and a former assignee's), and the admin views."""
        self._people_changed(task.created_by_id, task.assignee_id, *also)

    def _people_changed(self, *people: uuid.UUID | None) -> None:
        self.cache.after_write(self.tasks.session, {person for person in people if person})

    async def _assignee(self, assignment: Assignment) -> User | None:
        email, user_id = assignment.assignee_email, assignment.assignee_id
        if email is not None:
            field = "assigneeEmail"

            async def look_up() -> User | None:
                return await self.users.get_by_email(email)
        elif user_id is not None:
            field = "assigneeId"

            async def look_up() -> User | None:
                return await self.users.get(user_id)
        else:
            return None
        # Someone who signed up a moment ago may not be in the task service's copy yet.
        user = await retrying_while_none(look_up, within=self.people_catch_up_seconds)
        if user is None or not user.is_active:
            raise ValidationFailed(field, "No active user to assign the task to")
        return user

    async def list_own(self, user: Viewer, query: TaskListQuery) -> TaskPage:
        """The caller's own tasks (`scope`), or a project's when one is named."""
        if query.project_id is not None:
            await self._readable(query.project_id, user)
        return await self._page(_filter(user.id, query), query)

    async def list_all(self, query: AdminTaskListQuery) -> TaskPage:
        return await self._page(_filter(query.created_by, query), query)

    async def stats(self, user: Viewer, project_id: uuid.UUID | None = None) -> TaskStats:
        """Counts of the caller's own tasks, or of a project's for its members."""
        if project_id is not None:
            await self._readable(project_id, user)
            counts = await self.tasks.count_by_status_and_priority(project_id=project_id)
        else:
            counts = await self.tasks.count_by_status_and_priority(owner_id=user.id)
        by_status = dict.fromkeys(TaskStatus, 0)
        by_priority = dict.fromkeys(TaskPriority, 0)
        for status, priority, count in counts:
            by_status[status] += count
            by_priority[priority] += count
        return TaskStats(
            total=sum(by_status.values()),
            by_status=[GroupCount(key=key.value, count=n) for key, n in by_status.items()],
            by_priority=[GroupCount(key=key.value, count=n) for key, n in by_priority.items()],
        )

    async def get(self, task_id: uuid.UUID, viewer: Viewer, *, for_update: bool = False) -> Task:
        task = await self.tasks.get_visible(task_id, viewer, for_update=for_update)
        if task is None:
            raise TaskNotFound()
        return task

    async def create(self, owner: Viewer, data: TaskCreate) -> Row[Any]:
        """The new task as a list row (people joined in): no ORM object on the hot write path."""
        project_id = data.project_id or owner.id  # the personal project has its owner's id
        if project_id != owner.id:
            await self._require(project_id, owner, ProjectRole.EDITOR)
        assignee = await self._assignee(data)
        await self._check_assignee(project_id, owner.id, assignee, _assignee_field(data))
        now = utc_now()
        task_id = uuid.uuid4()
        row = await self.tasks.insert(
            {
                "id": task_id,
                "title": data.title,
                "description": data.description,
                "status": data.status,
                "priority": data.priority,
                "due_date": data.due_date,
                "created_by_id": owner.id,
                "assignee_id": assignee.id if assignee is not None else None,
                "project_id": project_id,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        self._people_changed(row.owner_id, row.assignee_id)
        self._announce_assignment(row.id, row.assignee_id, actor=owner, previous=None)
        return row

    async def update(
        self,
        task_id: uuid.UUID,
        viewer: Viewer,
        changes: TaskUpdate,
        *,
        if_match: Precondition | None = None,
    ) -> Task:
        # Every write locks the task first, then (in _changed) its people: one lock order, and
        # a writer that lost a race with a delete finds nothing (404).
        task = await self.get(task_id, viewer, for_update=True)
        _check(if_match, task)
        fields = changes.field_changes()
        rights = await self._rights(task, viewer)
        moving = changes.moves_to is not None and changes.moves_to != task.project_id
        if rights is _Rights.STATUS and (
            changes.touches_assignment or moving or set(fields) - {"status"}
        ):
            raise OnlyStatusForAssignees()
        if rights is _Rights.NONE:
            raise RoleTooLow()
        if moving and changes.moves_to is not None:
            await self._require(changes.moves_to, viewer, ProjectRole.EDITOR)
            task.project_id = changes.moves_to
        previous_assignee = task.assignee_id
        for field, value in fields.items():
            setattr(task, field, value)
        if changes.touches_assignment:
            task.assignee = await self._assignee(changes)
        if changes.touches_assignment or moving:
            field = _assignee_field(changes) if changes.touches_assignment else "projectId"
            await self._check_assignee(task.project_id, task.created_by_id, task.assignee, field)
        task.version += 1
        await self.tasks.flush()
        self._changed(task, previous_assignee)
        self._announce_assignment(
            task.id, task.assignee_id, actor=viewer, previous=previous_assignee
        )
        return task

    def _announce_assignment(
        self,
        task_id: uuid.UUID,
        assignee_id: uuid.UUID | None,
        *,
        actor: Viewer,
        previous: uuid.UUID | None,
    ) -> None:
        """A new assignee hears about it (not when people assign themselves)."""
        if assignee_id is None or assignee_id in {previous, actor.id}:
            return
        self.events.emit(TASK_ASSIGNED, {"task_id": str(task_id), "assignee_id": str(assignee_id)})

    async def delete(
        self, task_id: uuid.UUID, viewer: Viewer, *, if_match: Precondition | None = None
    ) -> None:
        task = await self.get(task_id, viewer, for_update=True)
        _check(if_match, task)
        rights = await self._rights(task, viewer)
        if rights is _Rights.STATUS:
            raise Forbidden("Only the task's owner can delete it")
        if rights is _Rights.NONE:
            raise RoleTooLow()
        self._changed(task)
        await self.tasks.delete(task)

    async def _readable(self, project_id: uuid.UUID, viewer: Viewer) -> None:
        """A project whose tasks the caller may read: a member's, or any for an admin."""
        if viewer.is_admin:
            if await self.projects.get(project_id) is None:
                raise ProjectNotFound()
            return
        if await self.projects.role_of(project_id, viewer.id) is None:
            raise ProjectNotFound()

    async def _require(self, project_id: uuid.UUID, viewer: Viewer, needed: ProjectRole) -> None:
        """The caller's role in the project includes `needed` (404 outside it, 403 below)."""
        role = await self.projects.role_of(project_id, viewer.id)
        if role is None and not (viewer.is_admin and await self.projects.get(project_id)):
            raise ProjectNotFound()
        if role is None or not role.includes(needed):  # admins read projects, members write
            raise RoleTooLow()

    async def _rights(self, task: Task, viewer: Viewer) -> _Rights:
        """What the caller may change: the creator and admins everything, as before; in a
        shared project, editors and up everything and viewers nothing; an assignee its
        status."""
        if viewer.is_admin or task.created_by_id == viewer.id:
            return _Rights.ALL
        if task.project_id != task.created_by_id:  # not its creator's personal project
            role = await self.projects.role_of(task.project_id, viewer.id)
            if role is not None and role.includes(ProjectRole.EDITOR):
                return _Rights.ALL
        return _Rights.STATUS if task.assignee_id == viewer.id else _Rights.NONE

    async def _check_assignee(
        self, project_id: uuid.UUID, creator_id: uuid.UUID, assignee: User | None, field: str
    ) -> None:
        """In a shared project, only its members can be given its tasks (anyone active can in
        a personal one, as before projects)."""
        if assignee is None or project_id == creator_id:
            return
        if await self.projects.role_of(project_id, assignee.id) is None:
            raise ValidationFailed(field, "The assignee must be a member of the task's project")

    async def _page(self, task_filter: TaskFilter, query: TaskListQuery) -> TaskPage:
        order = SortOrder.parse(query.sort)
        after = self._position(query.cursor, query.sort) if query.cursor else None
        # One row more than asked tells whether another page follows.
        rows, total = await self.tasks.page(
            task_filter,
            order=order,
            limit=query.limit + 1,
            offset=0 if after else query.offset,
            after=after,
        )
        tasks = rows[: query.limit]
        next_cursor = None
        if len(rows) > query.limit:
            last = tasks[-1]
            next_cursor = self.cursors.encode(
                {"sort": query.sort, "key": _to_json(order.key_of(last)), "id": str(last.id)}
            )
        return TaskPage(tasks, total, next_cursor)

    def _position(self, cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
        position = self.cursors.decode(cursor)
        if position.get("sort") != sort:
            raise ValidationFailed("cursor", "This cursor belongs to another sort order")
        try:
            field = SortOrder.parse(sort).field
            return _from_json(field, position["key"]), uuid.UUID(str(position["id"]))
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise InvalidCursor() from error


class TaskChanged(AppError):
    status_code = 412
    message = "The task changed since you read it; here is how it is now"


def _check(if_match: Precondition | None, task: Task) -> None:
    """A write with If-Match goes ahead only on the task as it names it (the lock is held)."""
    if if_match is not None and not if_match.allows(task):
        raise TaskChanged(data=TaskOut.model_validate(task).model_dump(mode="json", by_alias=True))


class _Rights(enum.Enum):
    ALL = "all"
    STATUS = "status"
    NONE = "none"


def _assignee_field(assignment: Assignment) -> str:
    return "assigneeEmail" if assignment.assignee_email is not None else "assigneeId"


def _filter(owner_id: uuid.UUID | None, query: TaskListQuery) -> TaskFilter:
    if query.project_id is not None and "scope" not in query.model_fields_set:
        owner_id = None  # the whole project's
    return TaskFilter(
        owner_id=owner_id,
        project_id=query.project_id,
        status=query.status,
        priority=query.priority,
        search=query.search,
        scope=query.scope,
    )


def _to_json(key: Any) -> Any:
    return key.isoformat() if isinstance(key, datetime) else key


def _from_json(field: str, value: Any) -> Any:
    """A cursor's sort key, checked as strictly as a query parameter would be: the cursor is
    signed, but by this server's key, which doesn't vouch for every value ever signed."""
    if field in {"createdAt", "dueDate"}:
        if value is None and field == "dueDate":
            return None
        if not isinstance(value, str):
            raise TypeError("date cursor key must be text")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("date cursor key must carry its offset")
        return moment.astimezone(UTC)
    if field == "priority" and (type(value) is not int or value not in PRIORITY_RANK.values()):
        raise ValueError("priority cursor key must be a rank")
    if field == "title" and (
        not isinstance(value, str) or "\x00" in value or len(value) > TITLE_MAX_LENGTH
    ):
        raise ValueError("title cursor key must be a title")
    return value
