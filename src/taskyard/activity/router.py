from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from taskyard.activity.dependencies import TaskTrailDep
from taskyard.activity.schemas import ActivityOut
from taskyard.activity.service import parsed
from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.schemas import ListEnvelope, PageQuery

router = APIRouter(prefix="/tasks", tags=["activity"], responses=documented_errors(401))

TaskId = Annotated[uuid.UUID, Path(alias="id", description="The task's id")]


def _entry(row: Any) -> ActivityOut:
    entry, name, email = row
    actor = None
    if entry.actor_id is not None and name is not None:
        actor = {"id": entry.actor_id, "name": name, "email": email}
    return ActivityOut.model_validate(
        {
            "id": entry.id,
            "action": entry.action,
            "field": entry.field,
            "old_value": parsed(entry.old_value),
            "new_value": parsed(entry.new_value),
            "actor": actor,
            "created_at": entry.created_at,
        }
    )


@router.get("/{id}/activity", responses=documented_errors(400, 404))
async def task_activity(
    task_id: TaskId,
    query: Annotated[PageQuery, Query()],
    user: CurrentPrincipal,
    trail: TaskTrailDep,
) -> ListEnvelope[ActivityOut]:
    """Who did what to the task and when, newest first: for whoever may read the task."""
    rows, total = await trail.page(task_id, user, query)
    entries = [_entry(row) for row in rows]
    return ListEnvelope.build(entries, total=total, page=query.page, limit=query.limit)
