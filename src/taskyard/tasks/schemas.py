from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema, model_validator

from taskyard.schemas import (
    APIModel,
    DataEnvelope,
    PageQuery,
    PatchInput,
    RequestModel,
    Resource,
    StrictInput,
    TextRule,
    Timestamp,
    format_timestamp,
)
from taskyard.tasks.models import (
    MAX_LABELS,
    RepeatUnit,
    TaskPriority,
    TaskStatus,
    label_ids,
    repeat_rule,
)
from taskyard.users.schemas import NO_NUL, Email, SearchTerm, UserRef

# ISO 8601: a date, or a date and time with an optional offset (naive times are UTC). Years
# 1000-8999 only, so that no offset can push a due date out of what can be stored. The days of
# each month are spelled out so that the pattern admits only real dates; 29 February is left
# out of it (it is real only in leap years), though a leap day is of course accepted.
_YEAR = "[1-8][0-9]{3}"


def _due_date_pattern(last_day_of_february: int) -> str:
    month_day = (
        "((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
        "|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
        f"|02-(0[1-9]|1[0-9]|2[0-{last_day_of_february - 20}]))"
    )
    time = "T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?"
    offset = "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    return f"^{_YEAR}-{month_day}({time}{offset}?)?$"


DUE_DATE_PATTERN = _due_date_pattern(28)
_DUE_DATE = re.compile(_due_date_pattern(29))  # the calendar then rules out 29 Feb 2026
_DUE_DATE_MESSAGE = "Must be an ISO 8601 date or date-time between the years 1000 and 8999"


def _parse_due_date(value: object) -> datetime | None:
    """A due date as the original clients send it: ISO 8601, null, or "" (no due date)."""
    if value is None or value == "":
        return None
    # Numbers are ambiguous (seconds or milliseconds?), so only ISO 8601 strings are taken.
    if not isinstance(value, str) or not _DUE_DATE.fullmatch(value):
        raise ValueError(_DUE_DATE_MESSAGE)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:  # 29 February of a common year
        raise ValueError(_DUE_DATE_MESSAGE) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


DueDate = Annotated[
    datetime | None,
    BeforeValidator(_parse_due_date),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DUE_DATE_PATTERN},
                {"type": "string", "enum": [""]},
                {"type": "null"},
            ],
            "description": "ISO 8601 date or date-time (UTC unless an offset is given); "
            '"" or null for none',
        }
    ),
]


TITLE_MAX_LENGTH = 100
Title = Annotated[str, TextRule("Title", min_length=3, max_length=TITLE_MAX_LENGTH)]
Description = Annotated[str, TextRule("Description", min_length=0, max_length=500, multiline=True)]

SortKey = Literal[
    "createdAt",
    "-createdAt",
    "dueDate",
    "-dueDate",
    "priority",
    "-priority",
    "title",
    "-title",
    "position",
    "-position",
]


class RepeatRule(StrictInput):
    every: int = Field(ge=1, le=365)
    unit: RepeatUnit


class TaskOut(Resource):
    title: str
    description: str
    status: TaskStatus
    priority: TaskPriority
    due_date: Timestamp | None
    created_by: UserRef = Field(validation_alias="owner")
    assignee: UserRef | None
    labels: list[uuid.UUID] = Field(description="The ids of its project's labels it carries")
    position: str = Field(description="Its place on the board: `sort=position` lists in it")
    repeat: RepeatRule | None = Field(description="Done, it comes back this much later")
    project_id: uuid.UUID = Field(
        description="The project the task is in (its creator's personal one unless put elsewhere)"
    )
    created_at: Timestamp
    updated_at: Timestamp
    version: int = Field(description="One more on every write; GET's ETag and If-Match use it")


def _person(person_id: uuid.UUID | None, name: str | None, email: str | None) -> Any:
    if person_id is None:
        return None
    text_id = str(person_id)
    return {"id": text_id, "_id": text_id, "name": name, "email": email}


def people_json(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A list row's people as `TaskOut` shows them."""
    return {
        "createdBy": _person(row["owner_id"], row["owner_name"], row["owner_email"]),
        "assignee": _person(row["assignee_id"], row["assignee_name"], row["assignee_email"]),
    }


def list_row_json(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A list row (`LIST_COLUMNS`, by column name) in exactly `TaskOut`'s JSON shape, without
    building a model per row: the list is the hottest read there is. A test holds the two to
    the same output."""
    task_id = str(row["id"])
    return {
        "id": task_id,
        "_id": task_id,
        "title": row["title"],
        "description": row["description"],
        # A text enum's str() is its value; rows read through asyncpg carry the text itself.
        "status": str(row["status"]),
        "priority": str(row["priority"]),
        "dueDate": format_timestamp(row["due_date"]) if row["due_date"] is not None else None,
        **people_json(row),
        "labels": [str(label) for label in label_ids(row["label_ids_text"])],
        "position": row["position"],
        "repeat": repeat_rule(row["repeat_every"], row["repeat_unit"]),
        "projectId": str(row["project_id"]),
        "createdAt": format_timestamp(row["created_at"]),
        "updatedAt": format_timestamp(row["updated_at"]),
        "version": row["version"],
    }


class Assignment(StrictInput):
    """Who a task is for: by id or by email, not both."""

    exclusive_fields: ClassVar[tuple[str, ...]] = ("assigneeId", "assigneeEmail")

    assignee_id: uuid.UUID | None = None
    assignee_email: Email | None = None

    @model_validator(mode="after")
    def _one_way_only(self) -> Self:
        if {"assignee_id", "assignee_email"} <= self.model_fields_set:
            raise ValueError("Give assigneeId or assigneeEmail, not both")
        return self


LabelIds = Annotated[list[uuid.UUID], Field(max_length=MAX_LABELS)]


class TaskCreate(Assignment):
    # The creator's personal project when left out; another needs the editor role in it.
    project_id: uuid.UUID | None = None
    labels: LabelIds | None = None
    repeat: RepeatRule | None = None
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.PENDING
    priority: TaskPriority = TaskPriority.MEDIUM
    due_date: DueDate = None


# What a write handles on its own: assignment, the project, the labels and the repeat rule.
_NOT_OWN_FIELDS = frozenset({"assignee_id", "assignee_email", "project_id", "labels", "repeat"})


class TaskUpdate(PatchInput, Assignment):
    """Only a task's own editable fields; anything else is refused, not ignored.
    `assigneeId: null` unassigns."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"due_date", "assignee_id", "repeat"})

    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: DueDate = None
    # Moves the task to another project (the editor role in both).
    project_id: uuid.UUID | None = None
    labels: LabelIds | None = None
    repeat: RepeatRule | None = None

    def field_changes(self) -> dict[str, Any]:
        """The task's own fields that were sent (assignment is handled on its own)."""
        return {
            name: value for name, value in self.changes().items() if name not in _NOT_OWN_FIELDS
        }

    @property
    def moves_to(self) -> uuid.UUID | None:
        return self.project_id

    @property
    def touches_assignment(self) -> bool:
        return bool({"assignee_id", "assignee_email"} & self.model_fields_set)


class ProjectScope(RequestModel):
    # A project's tasks, for any of its members; without it, the caller's own (`scope`).
    project_id: uuid.UUID | None = None


class TaskListQuery(PageQuery, ProjectScope):
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    search: SearchTerm | None = None
    sort: SortKey = "-createdAt"
    # own (the original's meaning, and the default), assigned to me, or both; with a project,
    # only when given (the project's tasks otherwise).
    scope: Literal["own", "assigned", "all"] = "own"
    # Tasks carrying this label (one of the project's).
    label: uuid.UUID | None = None
    # Keyset paging: the `nextCursor` of the previous page. It overrides `page`.
    cursor: Annotated[str, StringConstraints(max_length=512, pattern=NO_NUL)] | None = None


class AdminTaskListQuery(TaskListQuery):
    created_by: uuid.UUID | None = None


class TaskMove(StrictInput):
    """Where on the board: a status column, and between which two of its tasks (none: at the
    column's end; one: right beside it)."""

    status: TaskStatus
    after_id: uuid.UUID | None = None
    before_id: uuid.UUID | None = None


class GroupCount(APIModel):
    key: str = Field(serialization_alias="_id")
    count: int


class TaskStats(APIModel):
    total: int
    by_status: list[GroupCount]
    by_priority: list[GroupCount]


_STRONG_TASK_TAG = re.compile(r'^"v(\d+)(?:-([0-9a-f]{16})(?:-gzip)?)?"$')


def task_body(task: Any) -> bytes:
    """GET /tasks/{id}'s body for a task: what its ETag's digest is taken over."""
    envelope: DataEnvelope[TaskOut] = DataEnvelope(data=TaskOut.model_validate(task))
    return envelope.model_dump_json(by_alias=True).encode()


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def task_etag(version: int, body: bytes) -> str:
    """The ETag of GET /tasks/{id}: `"v<version>-<digest>"`. The version is what If-Match is
    checked against; the digest of the body changes as well when only a name shown in it did,
    so If-None-Match never keeps a stale copy."""
    return f'"v{version}-{_digest(body)}"'


@dataclass(frozen=True, slots=True)
class Precondition:
    """An If-Match header: `*`, or the strong tags a write may go ahead on. A tag is a GET's
    ETag, which must match the task as it is now whole (version and digest); or `"v<version>"`,
    for a client that read the task's `version` from a list. Weak tags never match (RFC 9110)."""

    tags: frozenset[tuple[int, str | None]]
    anything: bool = False

    @classmethod
    def parse(cls, header: str | None) -> Precondition | None:
        if header is None:
            return None
        if header.strip() == "*":
            return cls(frozenset(), anything=True)
        tags = (_STRONG_TASK_TAG.match(tag.strip()) for tag in header.split(","))
        # A tag that names no version of ours can never match: the write is refused (412).
        return cls(frozenset((int(tag[1]), tag[2]) for tag in tags if tag is not None))

    def allows(self, task: Any) -> bool:
        if self.anything:
            return True
        digest: str | None = None
        for version, tagged_digest in self.tags:
            if version != task.version:
                continue
            if tagged_digest is None:
                return True
            digest = digest or _digest(task_body(task))
            if tagged_digest == digest:
                return True
        return False
