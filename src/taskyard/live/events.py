"""The live events: one per change a project's people may want to hear of at once.

Written to the outbox in the write's own transaction (`LiveFeed`), so an event leaves exactly
when its change is durable; the relay then puts it on the live bus, which every instance reads.
"""

from __future__ import annotations

import enum
import json
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

# Each live event is written to the outbox twice, in the change's transaction: once for the live
# bus, carried by a relay of its own so that nothing else waits in front of it, and once for
# whatever else listens (the webhooks), through the broker and the worker like any event.
LIVE_EVENT = "live.event"
LIVE_OUTBOUND = "live.outbound"


class LiveEventType(enum.StrEnum):
    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_DELETED = "task.deleted"
    TASK_MOVED = "task.moved"
    COMMENT_CREATED = "comment.created"
    PROJECT_UPDATED = "project.updated"
    PROJECT_DELETED = "project.deleted"
    PROJECT_MEMBER_ADDED = "project.member_added"
    PROJECT_MEMBER_REMOVED = "project.member_removed"


# What the stream sends besides the events above.
RESYNC = "resync"  # what you missed is no longer kept: read everything again


@dataclass(frozen=True, slots=True)
class BusEntry:
    """A live event as the bus carries it: the JSON every recipient gets, written once, and
    what delivery decides by (the project, and whose access the change altered)."""

    type: str
    project_id: str
    wire: str  # {"type", "projectId", "taskId", "actorId", "at", "data"}
    concerns: frozenset[str]  # people whose access to the project changed

    def fields(self) -> dict[str, str]:
        return {
            "t": self.type,
            "p": self.project_id,
            "e": self.wire,
            "c": ",".join(sorted(self.concerns)),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> BusEntry:
        concerns = fields.get("c", "")
        return cls(
            fields["t"],
            fields["p"],
            fields["e"],
            frozenset(concerns.split(",")) if concerns else frozenset(),
        )

    @classmethod
    def from_outbox(cls, payload: dict[str, Any]) -> BusEntry:
        wire = {key: payload[key] for key in ("type", "projectId", "taskId", "actorId", "at")}
        wire["data"] = payload.get("data")
        return cls(
            str(payload["type"]),
            str(payload["projectId"]),
            json.dumps(wire, separators=(",", ":")),
            frozenset(payload.get("concerns", ())),
        )


@dataclass(frozen=True, slots=True)
class EventDraft:
    """A live event made ready for the outbox (`LiveRepository`), not yet written."""

    event_type: LiveEventType
    project_id: uuid.UUID
    at: datetime
    payload: dict[str, Any]

    def with_data(self, data: Any) -> EventDraft:
        return replace(self, payload={**self.payload, "data": data})


def outbox_payload(
    event_type: LiveEventType,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID | None,
    actor_id: uuid.UUID,
    at: str,
    data: Any,
    concerns: frozenset[uuid.UUID] = frozenset(),
) -> dict[str, Any]:
    return {
        "type": event_type.value,
        "projectId": str(project_id),
        "taskId": str(task_id) if task_id is not None else None,
        "actorId": str(actor_id),
        "at": at,
        "data": data,
        "concerns": sorted(str(person) for person in concerns),
        # The order changes happened in, to the microsecond: webhooks are sent in it.
        "seq": time.time_ns() // 1000,
    }
