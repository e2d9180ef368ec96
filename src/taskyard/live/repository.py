"""A live event's outbox rows, and the webhooks' copy only when the project's webhooks want it,
written by one statement: the check for webhooks rides in the write instead of costing a round
trip of its own on every write that emits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Insert,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    exists,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import UTCDateTime
from taskyard.db.native import write_rows
from taskyard.jobs.models import OutboxEvent
from taskyard.jobs.repository import encoded_payload
from taskyard.live.events import LIVE_EVENT, LIVE_OUTBOUND, EventDraft, LiveEventType
from taskyard.webhooks.models import Webhook

_OUTBOX = OutboxEvent.metadata.tables[OutboxEvent.__tablename__]


def _event_row(id_name: str, event_type: str, payload: ColumnElement[Any]) -> Select[Any]:
    return select(
        bindparam(id_name, type_=Uuid()),
        literal(event_type, String()),
        payload,
        bindparam("event_at", type_=UTCDateTime()),
        literal(0, Integer()),
    )


# The project's active webhooks include this event type (their `events` are comma-separated).
_WANTED = exists().where(
    Webhook.project_id == bindparam("event_project_id", type_=Uuid()),
    Webhook.active.is_(True),
    (literal(",") + Webhook.events + literal(",")).like(bindparam("listed_as"), escape="\\"),
)


def event_insert(payload: ColumnElement[Any], source: FromClause | None = None) -> Insert:
    """The event's outbox row, and the webhooks' copy when one of the project's wants it, with
    `payload` the row's payload: the parameter of that name, or an expression over `source`
    (a row another part of the same statement made, as a task's create does). Its parameters
    are named `event_*` and `listed_as`, so it can ride in another write as a CTE."""

    def row(id_name: str, event_type: str) -> Select[Any]:
        selected = _event_row(id_name, event_type, payload)
        return selected if source is None else selected.select_from(source)

    return (
        insert(_OUTBOX)
        .from_select(
            ["id", "type", "payload", "created_at", "attempts"],
            union_all(
                row("event_id", LIVE_EVENT), row("outbound_id", LIVE_OUTBOUND).where(_WANTED)
            ),
        )
        .returning(_OUTBOX.c.type)
    )


_WRITE = event_insert(bindparam("event_payload", type_=OutboxEvent.payload.type))


def _listed_as(event_type: LiveEventType) -> str:
    """The LIKE pattern of the type as one item of a comma-separated list, taken literally."""
    literal_text = event_type.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%,{literal_text},%"


def event_values(session: AsyncSession, event: EventDraft) -> dict[str, Any]:
    """The values of `event_insert`'s parameters for a drafted event, its payload included."""
    return {
        "event_id": uuid.uuid4(),
        "outbound_id": uuid.uuid4(),
        "event_at": event.at,
        "event_project_id": event.project_id,
        "listed_as": _listed_as(event.event_type),
        "event_payload": encoded_payload(session, event.payload),
    }


class LiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def write(self, event: EventDraft) -> list[str]:
        """The event for the streams, and its copy for the webhooks if any wants it; the outbox
        event types written."""
        rows = await write_rows(self.session, _WRITE, event_values(self.session, event))
        return [row["type"] for row in rows]
