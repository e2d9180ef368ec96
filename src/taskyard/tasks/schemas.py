from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from taskyard.schemas import (
    APIModel,
    PageQuery,
    PatchInput,
    Resource,
    StrictInput,
    TextRule,
    Timestamp,
)
from taskyard.tasks.models import TaskPriority, TaskStatus
from taskyard.users.schemas import Email, SearchTerm, UserRef


def _iso_date_or_blank(value: object) -> object:
    # Forms send "" for an untouched date input; that means "no due date".
    if isinstance(value, str) and not value.strip():
        return None
    # Numbers are ambiguous (seconds or milliseconds?), so only ISO 8601 strings are taken.
    if isinstance(value, int | float):
        raise ValueError("Must be an ISO 8601 date or date-time")
    return value


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as error:  # e.g. 9999-12-31T23:59:59-05:00 is past year 9999 in UTC
        raise ValueError("Must be a date between the years 1 and 9999 in UTC") from error


TITLE_MAX_LENGTH = 100
Title = Annotated[str, TextRule("Title", min_length=3, max_length=TITLE_MAX_LENGTH)]
Description = Annotated[str, TextRule("Description", min_length=0, max_length=500, multiline=True)]
DueDate = Annotated[datetime | None, BeforeValidator(_iso_date_or_blank), AfterValidator(_to_utc)]

SortKey = Literal[
    "createdAt", "-createdAt", "dueDate", "-dueDate", "priority", "-priority", "title", "-title"
]


class TaskOut(Resource):
    title: str
    description: str
    status: TaskStatus
    priority: TaskPriority
    due_date: Timestamp | None
    created_by: UserRef = Field(validation_alias="owner")
    assignee: UserRef | None
    created_at: Timestamp
    updated_at: Timestamp


class Assignment(StrictInput):
    """Who a task is for: by id or by email, not both."""

    assignee_id: uuid.UUID | None = None
    assignee_email: Email | None = None

    @model_validator(mode="after")
    def _one_way_only(self) -> Self:
        if self.assignee_id is not None and self.assignee_email is not None:
            raise ValueError("Give assigneeId or assigneeEmail, not both")
        return self


class TaskCreate(Assignment):
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.PENDING
    priority: TaskPriority = TaskPriority.MEDIUM
    due_date: DueDate = None


class TaskUpdate(PatchInput, Assignment):
    """Only a task's own editable fields; anything else is refused, not ignored.
    `assigneeId: null` unassigns."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"due_date", "assignee_id"})

    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: DueDate = None

    def field_changes(self) -> dict[str, Any]:
        """The task's own fields that were sent (assignment is handled on its own)."""
        return {
            name: value
            for name, value in self.changes().items()
            if name not in {"assignee_id", "assignee_email"}
        }

    @property
    def touches_assignment(self) -> bool:
        return bool({"assignee_id", "assignee_email"} & self.model_fields_set)


class TaskListQuery(PageQuery):
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    search: SearchTerm | None = None
    sort: SortKey = "-createdAt"
    # own (the original's meaning, and the default), assigned to me, or both.
    scope: Literal["own", "assigned", "all"] = "own"
    # Keyset paging: the `nextCursor` of the previous page. It overrides `page`.
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None


class AdminTaskListQuery(TaskListQuery):
    created_by: uuid.UUID | None = None


class GroupCount(APIModel):
    key: str = Field(serialization_alias="_id")
    count: int


class TaskStats(APIModel):
    total: int
    by_status: list[GroupCount]
    by_priority: list[GroupCount]
