from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager
from sqlalchemy.sql.elements import Label

from taskyard.db import LIKE_ESCAPE, contains_pattern
from taskyard.identity import Viewer
from taskyard.tasks.models import PRIORITY_RANK, Task, TaskPriority, TaskStatus
from taskyard.users.models import User

_Assignee = aliased(User, name="assignee")
_Owner = aliased(User, name="owner")

# A list row: the task's columns and its people's, no ORM objects (the hot read path).
LIST_COLUMNS = (
    Task.id.label("id"),
    Task.title.label("title"),
    Task.description.label("description"),
    Task.status.label("status"),
    Task.priority.label("priority"),
    Task.due_date.label("due_date"),
    Task.created_at.label("created_at"),
    Task.updated_at.label("updated_at"),
    _Owner.id.label("owner_id"),
    _Owner.name.label("owner_name"),
    _Owner.email.label("owner_email"),
    _Assignee.id.label("assignee_id"),
    _Assignee.name.label("assignee_name"),
    _Assignee.email.label("assignee_email"),
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
    """Which tasks a list covers: a person's own, those assigned to them, or both.
    `owner_id=None` means everyone's (the admin view)."""

    owner_id: uuid.UUID | None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    search: str | None = None
    scope: Scope = "own"

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.owner_id is not None:
            if self.scope == "own":
                conditions.append(Task.created_by_id == self.owner_id)
            elif self.scope == "assigned":
                conditions.append(Task.assignee_id == self.owner_id)
            else:
                conditions.append(
                    or_(Task.created_by_id == self.owner_id, Task.assignee_id == self.owner_id)
                )
        if self.status is not None:
            conditions.append(Task.status == self.status)
        if self.priority is not None:
            conditions.append(Task.priority == self.priority)
        if self.search:
            pattern = contains_pattern(self.search)
            conditions.append(
                or_(
                    Task.title.ilike(pattern, escape=LIKE_ESCAPE),
                    Task.description.ilike(pattern, escape=LIKE_ESCAPE),
                )
            )
        return conditions


_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "createdAt": Task.created_at,  # type: ignore[dict-item]
    "dueDate": Task.due_date,  # type: ignore[dict-item]
    "priority": _PRIORITY_RANK_SQL,
    "title": Task.title,  # type: ignore[dict-item]
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

    def key_of(self, task: Task | Row[Any]) -> Any:
        """The sort key of a task (or a list row), as the database orders it."""
        if self.field == "priority":
            return PRIORITY_RANK[task.priority]
        return {"createdAt": task.created_at, "dueDate": task.due_date, "title": task.title}[
            self.field
        ]

    def after(self, key: Any, task_id: uuid.UUID) -> ColumnElement[bool]:
        """Rows strictly past (key, id) in this order: the keyset condition for the next page."""
        column = _SORT_COLUMNS[self.field]
        if self.field == "dueDate":
            id_beyond = Task.id < task_id if self.descending else Task.id > task_id
            if key is None:  # already among the undated tasks, which come last
                return and_(Task.due_date.is_(None), id_beyond)
            key_beyond = column < key if self.descending else column > key
            return or_(key_beyond, and_(column == key, id_beyond), Task.due_date.is_(None))
        # A row comparison, which PostgreSQL can answer straight from the matching index.
        here = tuple_(column, Task.id)
        there = tuple_(literal(key, column.type), literal(task_id, Task.id.type))
        return here < there if self.descending else here > there


def _total_of(task_filter: TaskFilter) -> Label[int]:
    """How many tasks the filter matches, as a column that any query may carry."""
    return (
        select(func.count())
        .select_from(Task)
        .where(*task_filter.conditions())
        .correlate(None)  # never tied to the rows of the query carrying it
        .scalar_subquery()
        .label("total")
    )


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, task: Task) -> Task:
        self.session.add(task)
        await self.session.flush()
        return task

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, task: Task) -> None:
        await self.session.execute(delete(Task).where(Task.id == task.id))
        self.session.expunge(task)

    async def get_visible(
        self, task_id: uuid.UUID, viewer: Viewer, *, for_update: bool = False
    ) -> Task | None:
        """The task if the viewer may see it: its owner, its assignee, or any admin.

        `for_update` locks the task row (not the people joined in) before a write: a
        concurrent writer waits, then finds the row changed or gone.
        """
        query = _with_people(select(Task)).where(Task.id == task_id)
        if not viewer.is_admin:
            query = query.where(or_(Task.created_by_id == viewer.id, Task.assignee_id == viewer.id))
        if for_update:
            query = query.with_for_update(of=Task)
        return await self.session.scalar(query)

    async def page(
        self,
        task_filter: TaskFilter,
        *,
        order: SortOrder,
        limit: int,
        offset: int = 0,
        after: tuple[Any, uuid.UUID] | None = None,
    ) -> tuple[Sequence[Row[Any]], int]:
        """One page of list rows (`LIST_COLUMNS`, people joined in) and the count of all the
        filter matches, in one statement whatever the page size.

        The count rides along as an uncorrelated scalar subquery, which PostgreSQL runs once for
        the statement (an InitPlan), not per row. (A window count would make PostgreSQL fetch and
        join every matching row instead of the page alone.) Only a page past the end, which has
        no row to carry it, costs a second statement for the count.

        `after` is a keyset position (sort key, id): the page starts just past it, which costs
        the same however deep it is, unlike `offset`.
        """
        query = self.page_query(task_filter, order, limit, offset=offset, after=after)
        rows = (await self.session.execute(query)).all()
        if rows:
            return rows, rows[0].total
        if offset == 0 and after is None:
            return rows, 0
        past_the_end = await self.session.scalar(select(_total_of(task_filter)))
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
        conditions = task_filter.conditions()
        if after is not None:
            conditions.append(order.after(*after))
        query: Select[*tuple[Any, ...]] = (
            select(*LIST_COLUMNS, _total_of(task_filter))
            .join(_Owner, Task.created_by_id == _Owner.id)
            .outerjoin(_Assignee, Task.assignee_id == _Assignee.id)
            .where(*conditions)
            .order_by(*order.order_by())
            .offset(offset)
            .limit(limit)
        )
        return query

    async def all_matching(self, task_filter: TaskFilter) -> Sequence[Task]:
        """Every task the filter covers, people joined in, oldest first (for exports)."""
        order = SortOrder.parse("createdAt")
        rows = await self.session.scalars(
            _with_people(select(Task)).where(*task_filter.conditions()).order_by(*order.order_by())
        )
        return rows.all()

    async def count_by_status_and_priority(
        self, owner_id: uuid.UUID
    ) -> Sequence[tuple[TaskStatus, TaskPriority, int]]:
        rows = await self.session.execute(
            select(Task.status, Task.priority, func.count())
            .where(Task.created_by_id == owner_id)
            .group_by(Task.status, Task.priority)
        )
        return [(row[0], row[1], int(row[2])) for row in rows.all()]
