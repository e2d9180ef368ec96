from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Row
from tenacity import AsyncRetrying, retry_if_result, stop_before_delay, wait_exponential

from taskyard.cache.service import ResponseCache
from taskyard.cursors import CursorCodec, InvalidCursor
from taskyard.db import utc_now
from taskyard.errors import AppError, Forbidden, NotFound, ValidationFailed
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
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


CATCH_UP_FIRST_WAIT_SECONDS = 0.05  # then twice as long each time


class OnlyStatusForAssignees(Forbidden):
    message = "An assignee may change only the task's status"


class TaskService:
    def __init__(
        self,
        tasks: TaskRepository,
        users: UserRepository,
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
        user = await _retrying_while_none(look_up, within=self.people_catch_up_seconds)
        if user is None or not user.is_active:
            raise ValidationFailed(field, "No active user to assign the task to")
        return user

    async def list_own(self, user: Viewer, query: TaskListQuery) -> TaskPage:
        return await self._page(_filter(user.id, query), query)

    async def list_all(self, query: AdminTaskListQuery) -> TaskPage:
        return await self._page(_filter(query.created_by, query), query)

    async def stats(self, user: Viewer) -> TaskStats:
        by_status = dict.fromkeys(TaskStatus, 0)
        by_priority = dict.fromkeys(TaskPriority, 0)
        for status, priority, count in await self.tasks.count_by_status_and_priority(user.id):
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
        assignee = await self._assignee(data)
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
        if not _may_edit(task, viewer) and (changes.touches_assignment or set(fields) - {"status"}):
            raise OnlyStatusForAssignees()
        previous_assignee = task.assignee_id
        for field, value in fields.items():
            setattr(task, field, value)
        if changes.touches_assignment:
            task.assignee = await self._assignee(changes)
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
        if not _may_edit(task, viewer):
            raise Forbidden("Only the task's owner can delete it")
        self._changed(task)
        await self.tasks.delete(task)

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


async def _retrying_while_none(
    look_up: Callable[[], Awaitable[User | None]], *, within: float
) -> User | None:
    """`look_up`, again after a doubling pause while it finds nobody, for at most `within`."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda found: found is None),
        wait=wait_exponential(multiplier=CATCH_UP_FIRST_WAIT_SECONDS),
        stop=stop_before_delay(within),
        retry_error_callback=lambda _state: None,
    )
    found: User | None = await retrying(look_up)
    return found


class TaskChanged(AppError):
    status_code = 412
    message = "The task changed since you read it; here is how it is now"


def _check(if_match: Precondition | None, task: Task) -> None:
    """A write with If-Match goes ahead only on the task as it names it (the lock is held)."""
    if if_match is not None and not if_match.allows(task):
        raise TaskChanged(data=TaskOut.model_validate(task).model_dump(mode="json", by_alias=True))


def _may_edit(task: Task, viewer: Viewer) -> bool:
    return viewer.is_admin or task.created_by_id == viewer.id


def _filter(owner_id: uuid.UUID | None, query: TaskListQuery) -> TaskFilter:
    return TaskFilter(
        owner_id=owner_id,
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
