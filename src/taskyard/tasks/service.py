from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.exc import IntegrityError

from taskyard.activity.models import Action
from taskyard.activity.service import ActivityLog
from taskyard.cache.service import ResponseCache
from taskyard.cursors import CursorCodec, InvalidCursor
from taskyard.db import utc_now
from taskyard.db.native import NamedRow
from taskyard.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
from taskyard.labels.repository import LabelRepository
from taskyard.live.events import LiveEventType
from taskyard.live.service import LiveFeed
from taskyard.projects.models import ProjectRole
from taskyard.projects.repository import ProjectRepository
from taskyard.projects.service import RoleTooLow, role_required
from taskyard.tasks.events import TASK_ASSIGNED
from taskyard.tasks.models import (
    PRIORITY_RANK,
    RepeatUnit,
    Task,
    TaskPriority,
    TaskStatus,
    label_ids_text,
)
from taskyard.tasks.ordering import is_key, key_between, key_for_now
from taskyard.tasks.repository import SortOrder, TaskFilter, TaskRepository
from taskyard.tasks.schemas import (
    TITLE_MAX_LENGTH,
    AdminTaskListQuery,
    Assignment,
    GroupCount,
    Precondition,
    TaskCreate,
    TaskListQuery,
    TaskMove,
    TaskOut,
    TaskStats,
    TaskUpdate,
    list_row_json,
    people_json,
)
from taskyard.users.catch_up import retrying_while_none
from taskyard.users.models import User
from taskyard.users.repository import UserRepository


class TaskNotFound(NotFound):
    # Also what a caller gets for someone else's task: existence is never revealed.
    message = "Task not found"


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: Sequence[NamedRow]  # list rows (`LIST_COLUMNS`, by name)
    total: int
    next_cursor: str | None
    # A project's page: the caller's role in it (None for an admin reading it).
    role: ProjectRole | None = None


class OnlyStatusForAssignees(Forbidden):
    message = "An assignee may change only the task's status"


# A list row's people before the row is read back (the create's statement puts them in).
_NOBODY_YET = {
    "owner_name": None,
    "owner_email": None,
    "assignee_name": None,
    "assignee_email": None,
}


class TaskService:
    def __init__(
        self,
        tasks: TaskRepository,
        users: UserRepository,
        projects: ProjectRepository,
        labels: LabelRepository,
        activity: ActivityLog,
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
        self.labels = labels
        self.activity = activity
        self.events = events
        self.live = LiveFeed(events)
        self.cursors = cursors
        self.cache = cache

    def _changed(
        self, task: Task, *also: uuid.UUID | None, moved_from: uuid.UUID | None = None
    ) -> None:
        """Every cached view that could show this task goes stale once this transaction
        commits: its owner's, its assignee's (and a former assignee's), its project's (and the
        one it left), and the admin views. One counter a project, whatever its members."""
        self._views_changed(
            {task.created_by_id, task.assignee_id, *also}, {task.project_id, moved_from}
        )

    def _views_changed(
        self, people: set[uuid.UUID | None], projects: set[uuid.UUID | None]
    ) -> None:
        self.cache.after_write(
            self.tasks.session,
            {person for person in people if person},
            {project for project in projects if project},
        )

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
        if query.project_id is None:
            return await self._page(_filter(user.id, query), query)
        role = await role_required(self.projects, query.project_id, user)
        page = await self._page(_filter(user.id, query), query)
        return TaskPage(page.tasks, page.total, page.next_cursor, role)

    async def list_all(self, query: AdminTaskListQuery) -> TaskPage:
        return await self._page(_filter(query.created_by, query), query)

    async def stats(self, user: Viewer) -> TaskStats:
        """Counts of the caller's own tasks."""
        return _stats(await self.tasks.count_by_status_and_priority(owner_id=user.id))

    async def project_stats(
        self, user: Viewer, project_id: uuid.UUID
    ) -> tuple[TaskStats, ProjectRole | None]:
        """Counts of a project's tasks, for its members, and the caller's role in it."""
        role = await role_required(self.projects, project_id, user)
        return _stats(await self.tasks.count_by_status_and_priority(project_id=project_id)), role

    async def get(self, task_id: uuid.UUID, viewer: Viewer, *, for_update: bool = False) -> Task:
        task = await self.tasks.get_visible(task_id, viewer, for_update=for_update)
        if task is None:
            raise TaskNotFound()
        return task

    async def create(self, owner: Viewer, data: TaskCreate) -> dict[str, Any]:
        """The new task as the API shows it (`TaskOut`'s JSON, which its live event carries too),
        made once from its list row: no ORM object on the hot write path."""
        project_id = data.project_id or owner.id  # the personal project has its owner's id
        if project_id != owner.id:
            await role_required(self.projects, project_id, owner, ProjectRole.EDITOR)
        assignee = await self._assignee(data)
        await self._check_assignee(project_id, owner.id, assignee, _assignee_field(data))
        labels = await self._labels_of(project_id, data.labels or [])
        now = utc_now()
        task_id = uuid.uuid4()
        values = {
            "id": task_id,
            "title": data.title,
            "description": data.description,
            "status": data.status,
            "priority": data.priority,
            "due_date": data.due_date,
            "created_by_id": owner.id,
            "assignee_id": assignee.id if assignee is not None else None,
            "project_id": project_id,
            "position": key_for_now(),
            "label_ids_text": label_ids_text(labels),
            "repeat_every": data.repeat.every if data.repeat else None,
            "repeat_unit": data.repeat.unit if data.repeat else None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        self.activity.note(task_id, owner.id, Action.CREATED)
        if assignee is not None:
            self.activity.note(task_id, owner.id, Action.ASSIGNED, "assignee", None, assignee.id)
        if labels:
            self.activity.note(task_id, owner.id, Action.LABELLED, "labels", [], labels)
        # The event goes in the create's own statement where it can, before the people's names
        # are read: the statement puts them in, as the response shows them.
        drafted = list_row_json(values | _NOBODY_YET | {"owner_id": owner.id})
        event = self.live.draft(
            LiveEventType.TASK_CREATED,
            project_id=project_id,
            task_id=task_id,
            actor_id=owner.id,
            data=drafted,
        )
        trail = self.activity.take()
        # Nothing else to write unless an assignee is to hear of it: then the statement can be
        # its own transaction (the unit of work refuses a write after it).
        notifies = self._notifies_assignee(assignee.id if assignee else None, owner, previous=None)
        created = await self.tasks.insert(
            values, labels=labels, trail=trail, event=event, whole=not notifies
        )
        row = created.row
        task = drafted | people_json(row)  # the row as written, with its people as read
        if created.written_along:
            self.live.written(created.outbox_types)
        else:
            await self.activity.add(trail)
            await self.live.record(event.with_data(task))
        self._views_changed({row["owner_id"], row["assignee_id"]}, {row["project_id"]})
        self._announce_assignment(row["id"], row["assignee_id"], actor=owner, previous=None)
        return task

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
        before = _trail_values(task)
        labels_before = task.labels
        moved_from = task.project_id if moving else None
        if moving and changes.moves_to is not None:
            await role_required(self.projects, changes.moves_to, viewer, ProjectRole.EDITOR)
            task.project_id = changes.moves_to
        previous_assignee = task.assignee_id
        for field, value in fields.items():
            setattr(task, field, value)
        if "repeat" in changes.model_fields_set:
            task.repeat_every = changes.repeat.every if changes.repeat else None
            task.repeat_unit = changes.repeat.unit if changes.repeat else None
        if changes.touches_assignment:
            task.assignee = await self._assignee(changes)
        if changes.touches_assignment or moving:
            field = _assignee_field(changes) if changes.touches_assignment else "projectId"
            await self._check_assignee(task.project_id, task.created_by_id, task.assignee, field)
        labels_after = labels_before
        if changes.labels is not None:
            labels_after = await self._labels_of(task.project_id, changes.labels)
        elif moving:  # another project's labels don't come along
            labels_after = sorted(await self.labels.in_project(task.project_id, labels_before))
        if set(labels_after) != set(labels_before):
            await self.labels.set_for_task(task.id, set(labels_before), set(labels_after))
            task.label_ids_text = label_ids_text(labels_after)
        self._repeat_if_done(task, viewer, before)
        task.version += 1
        await self.tasks.flush()
        self._note_changes(task, viewer, before, labels_before, labels_after)
        await self.activity.flush()
        self._changed(task, previous_assignee, moved_from=moved_from)
        self._announce_assignment(
            task.id, task.assignee_id, actor=viewer, previous=previous_assignee
        )
        if moved_from is not None:  # gone from there: its people may no longer read it
            await self._tell_gone(task.id, moved_from, viewer)
        await self._tell(LiveEventType.TASK_UPDATED, task, viewer)
        return task

    async def _tell(self, event_type: LiveEventType, task: Task, viewer: Viewer) -> None:
        await self.live.emit(
            event_type,
            project_id=task.project_id,
            task_id=task.id,
            actor_id=viewer.id,
            data=TaskOut.model_validate(task).model_dump(mode="json", by_alias=True),
        )

    async def _tell_gone(self, task_id: uuid.UUID, project_id: uuid.UUID, viewer: Viewer) -> None:
        await self.live.emit(
            LiveEventType.TASK_DELETED,
            project_id=project_id,
            task_id=task_id,
            actor_id=viewer.id,
            data={"id": str(task_id)},
        )

    @staticmethod
    def _notifies_assignee(
        assignee_id: uuid.UUID | None, actor: Viewer, *, previous: uuid.UUID | None
    ) -> bool:
        return assignee_id is not None and assignee_id not in {previous, actor.id}

    def _announce_assignment(
        self,
        task_id: uuid.UUID,
        assignee_id: uuid.UUID | None,
        *,
        actor: Viewer,
        previous: uuid.UUID | None,
    ) -> None:
        """A new assignee hears about it (not when people assign themselves)."""
        if self._notifies_assignee(assignee_id, actor, previous=previous):
            self.events.emit(
                TASK_ASSIGNED, {"task_id": str(task_id), "assignee_id": str(assignee_id)}
            )

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
        await self._tell_gone(task.id, task.project_id, viewer)
        await self.tasks.delete(task)

    async def move(self, task_id: uuid.UUID, viewer: Viewer, move: TaskMove) -> Task:
        """Put a task in a status column between two of the project's tasks: one row written."""
        task = await self.get(task_id, viewer, for_update=True)
        if await self._rights(task, viewer) is _Rights.NONE:
            raise RoleTooLow()
        after = await self._place(task, move.after_id, "afterId")
        before = await self._place(task, move.before_id, "beforeId")
        if move.after_id is None and move.before_id is None:
            after = await self.tasks.neighbour(
                task.project_id, move.status, beside=None, after=True, leaving_out=task.id
            )
        elif move.before_id is None:
            before = await self.tasks.neighbour(
                task.project_id, move.status, beside=after, after=True, leaving_out=task.id
            )
        elif move.after_id is None:
            after = await self.tasks.neighbour(
                task.project_id, move.status, beside=before, after=False, leaving_out=task.id
            )
        if after is not None and before is not None and after >= before:
            raise ValidationFailed("beforeId", "Must come after afterId in the column")
        previous = _trail_values(task)
        task.status = move.status
        task.position = key_between(after, before)
        self._repeat_if_done(task, viewer, previous)
        task.version += 1
        try:
            await self.tasks.flush()
        except IntegrityError as error:  # another move took that very place
            raise PlaceTaken() from error
        self.activity.note(
            task.id, viewer.id, Action.MOVED, "status", previous["status"], task.status
        )
        self._note_changes(task, viewer, previous, [], [], leave_out={"status"})
        await self.activity.flush()
        self._changed(task)
        await self._tell(LiveEventType.TASK_MOVED, task, viewer)
        return task

    async def _place(self, task: Task, neighbour_id: uuid.UUID | None, field: str) -> str | None:
        """A neighbour's position: another task of the same project."""
        if neighbour_id is None:
            return None
        place = await self.tasks.place_of(neighbour_id, task.project_id)
        if place is None or neighbour_id == task.id:
            raise ValidationFailed(field, "Must be another task of the same project")
        return place[0]

    def _repeat_if_done(self, task: Task, viewer: Viewer, before: dict[str, Any]) -> None:
        """A repeating task just completed comes back: its due date moved on by its interval
        (from now, if it had none), pending again; its trail says it was completed."""
        if (
            task.status is not TaskStatus.COMPLETED
            or before["status"] is TaskStatus.COMPLETED
            or task.repeat_every is None
            or task.repeat_unit is None
        ):
            return
        self.activity.note(task.id, viewer.id, Action.COMPLETED)
        task.due_date = next_due(task.due_date, task.repeat_every, task.repeat_unit)
        task.status = TaskStatus.PENDING

    def _note_changes(
        self,
        task: Task,
        viewer: Viewer,
        before: dict[str, Any],
        labels_before: list[uuid.UUID],
        labels_after: list[uuid.UUID],
        *,
        leave_out: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        after = _trail_values(task)
        for field in ("title", "description", "status", "priority", "dueDate", "repeat"):
            if field not in leave_out:
                self.activity.changes(task.id, viewer.id, [(field, before[field], after[field])])
        if before["projectId"] != after["projectId"]:
            self.activity.note(
                task.id, viewer.id, Action.MOVED, "projectId", before["projectId"], task.project_id
            )
        if before["assignee"] != after["assignee"]:
            self.activity.note(
                task.id,
                viewer.id,
                Action.ASSIGNED,
                "assignee",
                before["assignee"],
                after["assignee"],
            )
        if set(labels_before) != set(labels_after):
            self.activity.note(
                task.id, viewer.id, Action.LABELLED, "labels", labels_before, labels_after
            )

    async def _labels_of(self, project_id: uuid.UUID, wanted: list[uuid.UUID]) -> list[uuid.UUID]:
        """The labels asked for, each of which must be the project's."""
        found = await self.labels.in_project(project_id, wanted)
        if found != set(wanted):
            raise ValidationFailed("labels", "Every label must be one of the task's project")
        return sorted(found)

    async def may_contribute(self, task: Task, viewer: Viewer) -> bool:
        """Whether the caller may add to the task (comment on it): anyone who may change it."""
        return await self._rights(task, viewer) is not _Rights.NONE

    async def manages(self, task: Task, viewer: Viewer) -> bool:
        """Whether the caller moderates the task's project: an account admin, or its admins."""
        if viewer.is_admin:
            return True
        role = await self.projects.role_of(task.project_id, viewer.id)
        return role is not None and role.includes(ProjectRole.ADMIN)

    async def sees(self, task: Task, person_id: uuid.UUID) -> bool:
        """Whether this person is in on the task: its creator, its assignee or a member."""
        if person_id in {task.created_by_id, task.assignee_id}:
            return True
        return await self.projects.role_of(task.project_id, person_id) is not None

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
        a personal one, as before projects: its creator's, or the one someone moved it to)."""
        if assignee is None or project_id == creator_id:
            return
        if await self.projects.role_of(project_id, assignee.id) is not None:
            return
        if not await self.projects.is_personal(project_id):
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
                {"sort": query.sort, "key": _to_json(order.key_of(last)), "id": str(last["id"])}
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


class PlaceTaken(Conflict):
    message = "Another move took that place on the board at the same moment; try again"


def _trail_values(task: Task) -> dict[str, Any]:
    """What the activity trail compares before and after a write, by the API's names."""
    return {
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "dueDate": task.due_date,
        "repeat": task.repeat,
        "projectId": task.project_id,
        "assignee": task.assignee_id,
    }


def next_due(due: datetime | None, every: int, unit: RepeatUnit) -> datetime:
    """`every` units after the due date (or now): a month on from 31 January is the last day of
    February."""
    start = due or utc_now()
    step = {
        RepeatUnit.DAY: relativedelta(days=every),
        RepeatUnit.WEEK: relativedelta(weeks=every),
        RepeatUnit.MONTH: relativedelta(months=every),
    }[RepeatUnit(unit)]
    moved: datetime = start + step
    return moved


def _stats(counts: Sequence[tuple[TaskStatus, TaskPriority, int]]) -> TaskStats:
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
        label_id=query.label,
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
    if field == "position" and not is_key(value):
        raise ValueError("position cursor key must be a position")
    return value
