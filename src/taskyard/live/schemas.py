"""The live event as the stream and webhooks send it, and the stream ticket."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from taskyard.live.events import RESYNC, LiveEventType
from taskyard.schemas import APIModel, Timestamp


class LiveEvent(APIModel):
    """One change, as an event stream's `data:` line and a webhook delivery's body carry it."""

    type: LiveEventType
    project_id: uuid.UUID = Field(description="The project the change happened in")
    task_id: uuid.UUID | None = Field(description="The task it is about (task and comment events)")
    actor_id: uuid.UUID = Field(description="Who made the change")
    at: Timestamp = Field(description="When it was made")
    data: Any = Field(
        description=(
            "The resource as the API returns it: a task (`task.*`, `TaskOut`; for "
            "`task.deleted`, `{id}`), a comment (`comment.created`), a project "
            "(`project.updated`, `project.deleted`), or `{userId, role}` (`project.member_*`)"
        )
    )


class Resync(APIModel):
    """What the stream sends in place of events it no longer keeps: read everything again."""

    type: Literal["resync"]


class StreamEvent(BaseModel):
    """One event of the stream, as its lines carry it."""

    event: Literal[*[kind.value for kind in LiveEventType], "resync"] = Field(  # type: ignore[valid-type]
        description="The event's type"
    )
    id: str | None = Field(
        default=None, description="Its place: send it back as `Last-Event-ID` (none on `resync`)"
    )
    data: str = Field(
        description="A `LiveEvent` as JSON (a `Resync` on `resync`)",
        json_schema_extra={"contentMediaType": "application/json"},
    )


class StreamTicket(APIModel):
    ticket: str = Field(description="Opens one stream, once: `GET /api/v1/events?ticket=…`")
    expires_in: int = Field(description="Seconds it stays good for")


STREAM_DESCRIPTION = f"""A `text/event-stream` of the changes the caller may see, as they happen:
their tasks, the tasks of every project they are in, comments on those, and changes to those
projects and their members.

Each event has an `id:` (send it back as `Last-Event-ID` when reconnecting, or as
`?lastEventId=` where headers can't be set, to be sent what was missed), an `event:` naming its
type, and a `data:` line holding a `LiveEvent` as JSON. Types: {
    ", ".join(t.value for t in LiveEventType)
}; and `{RESYNC}`: what was missed is no longer kept (or was too much), so read
everything again.

A comment line (`: keep-alive`) comes every `TASKYARD_LIVE_HEARTBEAT_SECONDS` (15 s); at each,
the caller is checked as a request would be, and the stream ends once they logged out, were
deactivated, or their token was revoked or expired.

Authenticate with `Authorization: Bearer …` (an access token, or a personal API token with
`tasks:read`), or, from a browser's `EventSource`, with a single-use `ticket` from
`POST /api/v1/events/tickets`."""
