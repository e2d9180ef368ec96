from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager
from sqlalchemy.sql.elements import Label

from taskyard.activity.repository import entries_insert, entries_values
from taskyard.db import LIKE_ESCAPE, contains_pattern, insert_ignoring_conflicts
from taskyard.db.native import NamedRow, fetch_rows, runs_natively, write_rows
from taskyard.identity import Viewer
from taskyard.labels.models import TaskLabel
from taskyard.live.events import EventDraft
from taskyard.live.repository import event_insert, event_values
from taskyard.projects.repository import memberships_of, projects_of
from taskyard.tasks.models import PRIORITY_RANK, RevokedSession, Task, TaskPriority, TaskStatus
from taskyard.users.models import User

_Assignee = aliased(User, name="assignee")
_Owner = aliased(User, name="owner")


def _list_columns(task: Any) -> tuple[Label[Any], ...]:
    """A list row's columns: the task's (of `Task`, or of an alias of it) and its people's, no
    ORM objects (the hot read path)."""
    return (
        task.id.label("id"),
        task.title.label("title"),
        task.description.label("description"),
        task.status.label("status"),
        task.priority.label("priority"),
        task.due_date.label("due_date"),
        task.created_at.label("created_at"),
        task.updated_at.label("updated_at"),
        task.version.label("version"),
        task.project_id.label("project_id"),
        task.position.label("position"),
        task.repeat_every.label("repeat_every"),
        task.repeat_unit.label("repeat_unit"),
        task.label_ids_text.label("label_ids_text"),
        _Owner.id.label("owner_id"),
        _Owner.name.label("owner_name"),
        _Owner.email.label("owner_email"),
        _Assignee.id.label("assignee_id"),
        _Assignee.name.label("assignee_name"),
        _Assignee.email.label("assignee_email"),
    )


LIST_COLUMNS = _list_columns(Task)


def _list_rows_of(task: Any, *extra: ColumnElement[Any]) -> Select[*tuple[Any, ...]]:
    """List rows of `task` (`Task` or an alias of it), its people joined in."""
    return (
        select(*_list_columns(task), *extra)
        .join(_Owner, task.created_by_id == _Owner.id)
        .outerjoin(_Assignee, task.assignee_id == _Assignee.id)
    )


def _with_people(query: Select[Task]) -> Select[Task]:
    """Owner and assignee joined into the same query: no per-row loads."""
    return (
        query.join(Task.owner)
        .outerjoin(_Assignee, Task.assignee_id == _Assignee.id)
        .options(contains_eager(Task.owner), contains_eager(Task.assignee.of_type(_Assignee)))
    )


_PRIORITY_RANK_SQL = case(
    {priority.value: rank for priority, rank in PRIORITY_RANK.items()}, value=Task.priority
)


Scope = Literal["own", "assigned", "all"]


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Which tasks a list covers: a person's own, those assigned to them, or both, in one
    project or in any. `owner_id=None` means everyone's (the admin view, or a project's)."""

    owner_id: uuid.UUID | None
    project_id: uuid.UUID | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    search: str | None = None
    scope: Scope = "own"
    label_id: uuid.UUID | None = None

    def conditions(self, *, named: bool = False) -> list[ColumnElement[bool]]:
        """The WHERE clauses. `named`: with bind parameters named after the fields instead of
        the values, so that one statement serves every filter of the same shape (`values`)."""

        def value(name: str, actual: Any, column: Any) -> Any:
            return bindparam(name, type_=column.type) if named else actual

        conditions: list[ColumnElement[bool]] = []
        if self.project_id is not None:
            project = value("project_id", self.project_id, Task.project_id)
            conditions.append(Task.project_id == project)
        if self.owner_id is not None:
            owner = value("owner_id", self.owner_id, Task.created_by_id)
            if self.scope == "own":
                conditions.append(Task.created_by_id == owner)
            elif self.scope == "assigned":
                conditions.append(Task.assignee_id == owner)
            else:
                conditions.append(or_(Task.created_by_id == owner, Task.assignee_id == owner))
        if self.status is not None:
            conditions.append(Task.status == value("status", self.status, Task.status))
        if self.priority is not None:
            conditions.append(Task.priority == value("priority", self.priority, Task.priority))
        if self.label_id is not None:
            label = value("label_id", self.label_id, TaskLabel.label_id)
            conditions.append(
                exists().where(TaskLabel.task_id == Task.id, TaskLabel.label_id == label)
            )
        if self.search:
            # Our own escaping, not `icontains(..., autoescape=True)`: that escapes a literal only,
            # and the list's statement is built once with a named parameter in its place.
            pattern = value("search", contains_pattern(self.search), Task.title)
            conditions.append(
                or_(
                    Task.title.ilike(pattern, escape=LIKE_ESCAPE),
                    Task.description.ilike(pattern, escape=LIKE_ESCAPE),
                )
            )
        return conditions

    @property
    def shape(self) -> tuple[bool, bool, bool, Scope, bool, bool, bool]:
        """What the statement depends on, apart from the values."""
        return (
            self.label_id is not None,
            self.project_id is not None,
            self.owner_id is not None,
            self.scope,
            self.status is not None,
            self.priority is not None,
            bool(self.search),
        )

    def values(self) -> dict[str, Any]:
        """The values of `conditions(named=True)`."""
        named = {
            "owner_id": self.owner_id,
            "project_id": self.project_id,
            "label_id": self.label_id,
            "status": self.status,
            "priority": self.priority,
            "search": contains_pattern(self.search) if self.search else None,
        }
        return {name: value for name, value in named.items() if value is not None}


_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "createdAt": Task.created_at,  # type: ignore[dict-item]
    "dueDate": Task.due_date,  # type: ignore[dict-item]
    "priority": _PRIORITY_RANK_SQL,
    "title": Task.title,  # type: ignore[dict-item]
    "position": Task.position,  # type: ignore[dict-item]
}


@dataclass(frozen=True, slots=True)
class SortOrder:
    """A list order such as `-createdAt`: one key, then the id to break ties."""

    field: str
    descending: bool

    @classmethod
    def parse(cls, sort: str) -> SortOrder:
        return cls(field=sort.lstrip("-"), descending=sort.startswith("-"))

    def order_by(self) -> list[ColumnElement[Any]]:
        column = _SORT_COLUMNS[self.field]
        primary = column.desc() if self.descending else column.asc()
        if self.field == "dueDate":
            # Tasks without a due date go last in either direction, on every backend alike.
            primary = primary.nulls_last()
        # The other keys are NOT NULL and keep the plain order, so the indexes can serve them.
        tie_breaker = Task.id.desc() if self.descending else Task.id.asc()
        return [primary, tie_breaker]

    def key_of(self, row: NamedRow) -> Any:
        """The sort key of a list row, as the database orders it."""
        if self.field == "priority":
            return PRIORITY_RANK[TaskPriority(row["priority"])]
        return row[_ROW_KEYS[self.field]]

    def after(self, *, key_is_null: bool) -> ColumnElement[bool]:
        """Rows strictly past the position (:after_key, :after_id) in this order: the keyset
        condition for the next page (`key_is_null`: the position is among undated tasks)."""
        column = _SORT_COLUMNS[self.field]
        task_id = bindparam("after_id", type_=Task.id.type)
        if self.field == "dueDate":
            id_beyond = Task.id < task_id if self.descending else Task.id > task_id
            if key_is_null:  # already among the undated tasks, which come last
                return and_(Task.due_date.is_(None), id_beyond)
            key = bindparam("after_key", type_=column.type)
            key_beyond = column < key if self.descending else column > key
            return or_(key_beyond, and_(column == key, id_beyond), Task.due_date.is_(None))
        # A row comparison, which PostgreSQL can answer straight from the matching index.
        here = tuple_(column, Task.id)
        there = tuple_(bindparam("after_key", type_=column.type), task_id)
        return here < there if self.descending else here > there


# The list row's column each sort reads its key from.
_ROW_KEYS = {
    "createdAt": "created_at",
    "dueDate": "due_date",
    "title": "title",
    "position": "position",
}


def _total_of(task_filter: TaskFilter) -> Label[int]:
    """How many tasks the filter matches, as a column that any query may carry."""
    return (
        select(func.count())
        .select_from(Task)
        .where(*task_filter.conditions(named=True))
        .correlate(None)  # never tied to the rows of the query carrying it
        .scalar_subquery()
        .label("total")
    )


# On the table itself: a plain INSERT, without the ORM's insert machinery.
_TASKS = Task.metadata.tables[Task.__tablename__]
_INSERT_TASK = insert(_TASKS)
# What a create sets, each column from the parameter of its name.
CREATED_COLUMNS = (
    "id",
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "created_by_id",
    "assignee_id",
    "project_id",
    "position",
    "label_ids_text",
    "repeat_every",
    "repeat_unit",
    "created_at",
    "updated_at",
    "version",
)


@functools.cache  # built once (see `_page_statement`)
def _list_row_statement() -> Select[*tuple[Any, ...]]:
    # The owner too: the row is found on its owner's shard (docs/scaling.md).
    return _list_rows_of(Task).where(
        Task.created_by_id == bindparam("owner_id", type_=Task.created_by_id.type),
        Task.id == bindparam("task_id", type_=Task.id.type),
    )


def _person_json(person_id: ColumnElement[Any], name: Any, email: Any) -> ColumnElement[Any]:
    """A person as `TaskOut` shows one (`schemas._person`), built by PostgreSQL; JSON null for
    no one."""
    text_id = cast(person_id, Text)
    return case(
        (person_id.is_(None), literal_column("'null'::jsonb")),
        else_=func.jsonb_build_object(
            literal_column("'id'"),
            text_id,
            literal_column("'_id'"),
            text_id,
            literal_column("'name'"),
            name,
            literal_column("'email'"),
            email,
        ),
    )


@functools.cache  # a shape per number of activity entries, each built once
def _create_statement(trail_entries: int) -> Select[*tuple[Any, ...]]:
    """A create's every write in one statement (PostgreSQL's writing CTEs; SQLite has none):
    the task, read back as a list row with its people; its labels; its activity entries; and
    its live event, whose drafted payload (`event_payload`) gets its task's people from the row
    read back, as the response shows them. The row carries the outbox types the event wrote
    (`outbox_types`, comma-separated)."""
    inserted = (
        insert(_TASKS)
        .values({name: bindparam(name, type_=_TASKS.c[name].type) for name in CREATED_COLUMNS})
        .returning(*_TASKS.c)
        .cte("inserted")
    )
    created = _list_rows_of(aliased(Task, inserted)).cte("created")
    draft = cast(bindparam("event_payload", type_=Text), JSONB)
    people = func.jsonb_build_object(
        literal_column("'createdBy'"),
        _person_json(created.c.owner_id, created.c.owner_name, created.c.owner_email),
        literal_column("'assignee'"),
        _person_json(created.c.assignee_id, created.c.assignee_name, created.c.assignee_email),
    )
    data = draft.op("->")(literal_column("'data'")).op("||")(people)
    payload = func.jsonb_set(draft, literal_column("'{data}'"), data)
    event = event_insert(cast(payload, JSON), created).cte("event")
    statement = select(
        *created.c,
        # Text, not an array: an array of varchar costs asyncpg a type lookup per connection.
        select(func.string_agg(event.c.type, literal_column("','")))
        .scalar_subquery()
        .label("outbox_types"),
    )
    # Its labels from the ids the task row keeps (none for an empty list): no parameter of an
    # array type, which would cost asyncpg a type lookup per connection.
    label_id = cast(
        func.unnest(func.string_to_array(inserted.c.label_ids_text, literal_column("','"))), Uuid
    )
    statement = statement.add_cte(
        insert(TaskLabel)
        .from_select(["task_id", "label_id"], select(inserted.c.id, label_id))
        .cte("labelled")
    )
    if trail_entries:
        statement = statement.add_cte(entries_insert(trail_entries).cte("trail"))
    return statement


@functools.cache  # four statements, built once (see `_page_statement`)
def _visible_task_statement(*, anyones: bool, for_update: bool) -> Select[Task]:
    query = _with_people(select(Task)).where(Task.id == bindparam("task_id", type_=Task.id.type))
    if not anyones:
        viewer = bindparam("viewer_id", type_=Task.created_by_id.type)
        query = query.where(
            or_(
                Task.created_by_id == viewer,
                Task.assignee_id == viewer,
                Task.project_id.in_(projects_of(viewer)),
            )
        )
    if for_update:
        query = query.with_for_update(of=Task)
    return query


def _page_values(
    task_filter: TaskFilter, limit: int, offset: int, after: tuple[Any, uuid.UUID] | None
) -> dict[str, Any]:
    values = {**task_filter.values(), "page_limit": limit, "page_offset": offset}
    if after is not None:
        key, task_id = after
        values["after_id"] = task_id
        if key is not None:  # a null key (an undated task) is in the statement's shape
            values["after_key"] = key
    return values


def _page_statement(
    task_filter: TaskFilter, order: SortOrder, after: tuple[Any, uuid.UUID] | None
) -> Select[*tuple[Any, ...]]:
    """The statement for a page of this shape, built once: a new statement object per request
    costs SQLAlchemy more than running one it has seen (its cache key and ORM compile state are
    kept on the object)."""
    return _page_statement_of_shape(
        task_filter.shape, order, None if after is None else after[0] is None
    )


@functools.lru_cache(maxsize=1024)  # every shape there is: filters x sorts x positions
def _page_statement_of_shape(
    shape: tuple[bool, bool, bool, Scope, bool, bool, bool],
    order: SortOrder,
    after_null_key: bool | None,
) -> Select[*tuple[Any, ...]]:
    has_label, has_project, has_owner, scope, has_status, has_priority, has_search = shape
    # A filter of the same shape; its values are never read, only which fields are set.
    stand_in = TaskFilter(
        owner_id=uuid.UUID(int=0) if has_owner else None,
        project_id=uuid.UUID(int=0) if has_project else None,
        label_id=uuid.UUID(int=0) if has_label else None,
        status=TaskStatus.PENDING if has_status else None,
        priority=TaskPriority.LOW if has_priority else None,
        search="x" if has_search else None,
        scope=scope,
    )
    conditions = stand_in.conditions(named=True)
    if after_null_key is not None:
        conditions.append(order.after(key_is_null=after_null_key))
    return (
        _list_rows_of(Task, _total_of(stand_in))
        .where(*conditions)
        .order_by(*order.order_by())
        .offset(bindparam("page_offset", type_=Integer))
        .limit(bindparam("page_limit", type_=Integer))
    )


@dataclass(frozen=True, slots=True)
class CreatedTask:
    row: NamedRow
    # Whether the trail and the event went in the create's statement; if not, they are the
    # caller's to write.
    written_along: bool
    outbox_types: list[str]  # what the event wrote to the outbox, when written along


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(
        self,
        values: dict[str, Any],
        *,
        labels: Sequence[uuid.UUID],
        trail: Sequence[dict[str, Any]],
        event: EventDraft,
        whole: bool = False,
    ) -> CreatedTask:
        """Add a task (every `CREATED_COLUMNS` value given) with its labels and read it back as a
        list row (`LIST_COLUMNS`, by name). On PostgreSQL its activity `trail` and its live
        `event` (drafted with its people not yet known) go in the same statement, one round
        trip (and, if `whole`, its own transaction: see `write_rows`); elsewhere the caller
        writes those two afterwards."""
        if not runs_natively(self.session):
            await self.session.execute(_INSERT_TASK, values)
            if labels:
                await self.session.execute(
                    insert(TaskLabel),
                    [{"task_id": values["id"], "label_id": label} for label in labels],
                )
            keys = {"owner_id": values["created_by_id"], "task_id": values["id"]}
            read_back = (await self.session.execute(_list_row_statement(), keys)).mappings()
            return CreatedTask(read_back.one(), written_along=False, outbox_types=[])
        statement = _create_statement(len(trail))
        arguments = {**values, **entries_values(trail), **event_values(self.session, event)}
        (row,) = await write_rows(self.session, statement, arguments, whole=whole)
        written = row["outbox_types"]
        return CreatedTask(
            row, written_along=True, outbox_types=written.split(",") if written else []
        )

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, task: Task) -> None:
        await self.session.execute(delete(Task).where(Task.id == task.id))
        self.session.expunge(task)

    async def get_visible(
        self, task_id: uuid.UUID, viewer: Viewer, *, for_update: bool = False
    ) -> Task | None:
        """The task if the viewer may see it: its owner, its assignee, a member of its project
        (by name or through a team), or any admin.

        `for_update` locks the task row (not the people joined in) before a write: a
        concurrent writer waits, then finds the row changed or gone.
        """
        query = _visible_task_statement(anyones=viewer.is_admin, for_update=for_update)
        return await self.session.scalar(query, {"task_id": task_id, "viewer_id": viewer.id})

    async def page(
        self,
        task_filter: TaskFilter,
        *,
        order: SortOrder,
        limit: int,
        offset: int = 0,
        after: tuple[Any, uuid.UUID] | None = None,
    ) -> tuple[Sequence[NamedRow], int]:
        """One page of list rows (`LIST_COLUMNS` by name, people joined in) and the count of all the
        filter matches, in one statement whatever the page size.

        The count rides along as an uncorrelated scalar subquery, which PostgreSQL runs once for
        the statement (an InitPlan), not per row. (A window count would make PostgreSQL fetch and
        join every matching row instead of the page alone.) Only a page past the end, which has
        no row to carry it, costs a second statement for the count.

        `after` is a keyset position (sort key, id): the page starts just past it, which costs
        the same however deep it is, unlike `offset`.
        """
        values = _page_values(task_filter, limit, offset, after)
        query = _page_statement(task_filter, order, after)
        rows = await fetch_rows(self.session, query, values)
        if rows:
            return rows, rows[0]["total"]
        if offset == 0 and after is None:
            return rows, 0
        past_the_end = await self.session.scalar(select(_total_of(task_filter)), values)
        return rows, past_the_end or 0

    @staticmethod
    def page_query(
        task_filter: TaskFilter,
        order: SortOrder,
        limit: int,
        *,
        offset: int = 0,
        after: tuple[Any, uuid.UUID] | None = None,
    ) -> Select[*tuple[Any, ...]]:
        """The statement `page` runs, with its values bound in (to show or explain it)."""
        values = _page_values(task_filter, limit, offset, after)
        return _page_statement(task_filter, order, after).params(values)

    async def all_matching(self, task_filter: TaskFilter) -> Sequence[Task]:
        """Every task the filter covers, people joined in, oldest first (for exports)."""
        order = SortOrder.parse("createdAt")
        rows = await self.session.scalars(
            _with_people(select(Task)).where(*task_filter.conditions()).order_by(*order.order_by())
        )
        return rows.all()

    async def place_of(
        self, task_id: uuid.UUID, project_id: uuid.UUID
    ) -> tuple[str, TaskStatus] | None:
        """A task's position and status, if it is in this project."""
        row = (
            await self.session.execute(
                select(Task.position, Task.status).where(
                    Task.id == task_id, Task.project_id == project_id
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def neighbour(
        self,
        project_id: uuid.UUID,
        status: TaskStatus,
        *,
        beside: str | None,
        after: bool,
        leaving_out: uuid.UUID,
    ) -> str | None:
        """The position next to `beside` in a column (after it, or before it), or the column's
        last one when `beside` is None; the task being moved is left out."""
        query = select(Task.position).where(
            Task.project_id == project_id, Task.status == status, Task.id != leaving_out
        )
        if beside is None:
            query = query.order_by(Task.position.desc())
        elif after:
            query = query.where(Task.position > beside).order_by(Task.position)
        else:
            query = query.where(Task.position < beside).order_by(Task.position.desc())
        return await self.session.scalar(query.limit(1))

    async def count_by_status_and_priority(
        self, *, owner_id: uuid.UUID | None = None, project_id: uuid.UUID | None = None
    ) -> Sequence[tuple[TaskStatus, TaskPriority, int]]:
        """Counts of a person's own tasks, or of a project's."""
        where = Task.project_id == project_id if project_id else Task.created_by_id == owner_id
        rows = await self.session.execute(
            select(Task.status, Task.priority, func.count())
            .where(where)
            .group_by(Task.status, Task.priority)
        )
        return [(row[0], row[1], int(row[2])) for row in rows.all()]

    async def lock_shared_with(self, user_id: uuid.UUID) -> None:
        """Lock the tasks this person owns or is assigned, before the person's own row: the
        order every task write takes too (task first), so the two never deadlock."""
        await self.session.execute(
            select(Task.id)
            .where(or_(Task.created_by_id == user_id, Task.assignee_id == user_id))
            .order_by(Task.id)
            .with_for_update()
        )

    async def projects_showing(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """The projects this person is in, and those whose tasks they made or were given."""
        rows = await self.session.scalars(
            union(
                select(Task.project_id).where(
                    or_(Task.created_by_id == user_id, Task.assignee_id == user_id)
                ),
                *memberships_of(user_id),  # flat: SQLite takes no nested compound select
            )
        )
        return set(rows.all())

    async def people_sharing_with(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """Everyone whose task views show this person: they themselves, the owners of the
        tasks assigned to them and the assignees of their own tasks."""
        rows = await self.session.scalars(
            union(
                select(Task.created_by_id).where(Task.assignee_id == user_id),
                select(Task.assignee_id).where(
                    Task.created_by_id == user_id, Task.assignee_id.is_not(None)
                ),
            )
        )
        return {user_id, *(row for row in rows.all() if row is not None)}


class RevokedSessionRepository:
    """Split mode: the sessions the auth service ended, until their tokens have expired."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, session_ids: Sequence[uuid.UUID], until: datetime) -> None:
        if session_ids:
            await self.session.execute(
                insert_ignoring_conflicts(self.session, RevokedSession),
                [{"session_id": session_id, "until": until} for session_id in session_ids],
            )

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(RevokedSession.session_id).where(RevokedSession.session_id == session_id)
        )
        return found is not None

    async def delete_expired(self, now: datetime) -> int:
        result = await self.session.execute(
            delete(RevokedSession).where(RevokedSession.until <= now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
