from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel
from pydantic_core import to_json
from starlette.convertors import Convertor, register_url_convertor

from taskyard.cache.dependencies import ResponseCacheDep
from taskyard.cache.projects import ProjectViews
from taskyard.cache.service import ResponseCache, Tagged
from taskyard.errors import documented_errors
from taskyard.idempotency.dependencies import IdempotencyDep
from taskyard.identity import Principal
from taskyard.identity.dependencies import AdminPrincipal, CurrentPrincipal
from taskyard.projects.models import ProjectRole
from taskyard.schemas import CursorListEnvelope, DataEnvelope, MessageEnvelope
from taskyard.tasks.dependencies import TaskServiceDep
from taskyard.tasks.schemas import (
    AdminTaskListQuery,
    Precondition,
    ProjectScope,
    TaskCreate,
    TaskListQuery,
    TaskMove,
    TaskOut,
    TaskStats,
    TaskUpdate,
    list_row_json,
    task_body,
    task_etag,
)
from taskyard.tasks.service import TaskPage

router = APIRouter(prefix="/tasks", tags=["tasks"])


class TaskIdConvertor(Convertor[str]):
    """A task id in a path: any segment but `stats`, so that PUT /tasks/stats is a 405 for
    the stats route rather than a malformed-id 400 for a task (the id is checked as a UUID)."""

    regex = "(?!stats$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("taskid", TaskIdConvertor())

TaskId = Annotated[uuid.UUID, Path(alias="id", description="The task's id")]
TASK_WRITE_ERRORS = documented_errors(400, 401, 403, 404, 412, 413)
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The task\'s ETag from GET, or `"v<version>"` from its `version` field: the '
        "write goes ahead only if the task is still exactly that (a strong comparison: weak tags "
        "never match), else 412 with the current task. Without it, the last writer wins.",
    ),
]


async def _project_view(
    view: str,
    project_id: uuid.UUID,
    user: Principal,
    cache: ResponseCache,
    request: Request,
    produce: Callable[[], Awaitable[tuple[BaseModel | bytes, ProjectRole | None]]],
    *,
    shared: bool,
) -> Response:
    """A project's view, made after the database said the caller may see it, and kept for
    every member (`cache/projects.py`) when it is the same for all (`shared`)."""
    views = ProjectViews(cache)
    read = await views.read(user, project_id, request.scope) if shared else None
    role: ProjectRole | None = None

    async def made() -> BaseModel | bytes:
        nonlocal role
        body, role = await produce()
        return body

    response = await cache.respond(view, views.key(read, request.scope) if read else None, made)
    if read is not None and role is not None:
        await views.admit(read, user.user_id, role.rank)
    return response


def _task_list(page: TaskPage, query: TaskListQuery) -> bytes:
    return CursorListEnvelope.json_bytes(
        [list_row_json(row) for row in page.tasks],
        total=page.total,
        page=None if query.cursor else query.page,
        limit=query.limit,
        next_cursor=page.next_cursor,
    )


@router.get(
    "", response_model=CursorListEnvelope[TaskOut], responses=documented_errors(400, 401, 404)
)
async def list_tasks(
    query: Annotated[TaskListQuery, Query()],
    user: CurrentPrincipal,
    service: TaskServiceDep,
    cache: ResponseCacheDep,
    request: Request,
) -> Response:
    if query.project_id is not None:
        project_id = query.project_id

        async def produce_for_project() -> tuple[bytes, ProjectRole | None]:
            page = await service.list_own(user, query)
            return _task_list(page, query), page.role

        shared = "scope" not in query.model_fields_set  # one body for every member
        return await _project_view(
            "project_list", project_id, user, cache, request, produce_for_project, shared=shared
        )

    async def produce() -> bytes:
        return _task_list(await service.list_own(user, query), query)

    return await cache.respond("list", cache.key_for_user(user, request.scope), produce)


@router.get(
    "/stats", response_model=DataEnvelope[TaskStats], responses=documented_errors(400, 401, 404)
)
async def task_stats(
    query: Annotated[ProjectScope, Query()],
    user: CurrentPrincipal,
    service: TaskServiceDep,
    cache: ResponseCacheDep,
    request: Request,
) -> Response:
    if query.project_id is not None:
        project_id = query.project_id

        async def produce_for_project() -> tuple[DataEnvelope[TaskStats], ProjectRole | None]:
            stats, role = await service.project_stats(user, project_id)
            return DataEnvelope(data=stats), role

        return await _project_view(
            "project_stats", project_id, user, cache, request, produce_for_project, shared=True
        )

    async def produce() -> DataEnvelope[TaskStats]:
        return DataEnvelope(data=await service.stats(user))

    return await cache.respond("stats", cache.key_for_user(user, request.scope), produce)


@router.get(
    "/admin/all",
    response_model=CursorListEnvelope[TaskOut],
    responses=documented_errors(400, 401, 403),
)
async def list_all_tasks(
    query: Annotated[AdminTaskListQuery, Query()],
    _admin: AdminPrincipal,
    service: TaskServiceDep,
    cache: ResponseCacheDep,
) -> Response:
    async def produce() -> bytes:
        return _task_list(await service.list_all(query), query)

    return await cache.respond("admin_list", await cache.key_for_admin("list", query), produce)


@router.get(
    "/{id:taskid}",
    response_model=DataEnvelope[TaskOut],
    responses=documented_errors(400, 401, 404),
)
async def get_task(
    task_id: TaskId,
    user: CurrentPrincipal,
    service: TaskServiceDep,
    cache: ResponseCacheDep,
    request: Request,
) -> Response:
    async def produce() -> Tagged:
        task = await service.get(task_id, user)
        body = task_body(task)
        # A task of a shared project changes with any member's write: not kept under the caller.
        shared = task.project_id != task.created_by_id and not user.is_admin
        return Tagged(body, task_etag(task.version, body), keep=not shared)

    # Owners see their own task through their own key; admins viewing anyone's go by admin key.
    key = (
        cache.key_for_user(user, request.scope)
        if not user.is_admin
        else await cache.key_for_admin(f"task:{task_id}")
    )
    return await cache.respond("task", key, produce)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageEnvelope[TaskOut],
    responses=documented_errors(400, 401, 403, 404, 409, 413, 422),
)
async def create_task(
    body: TaskCreate,
    user: CurrentPrincipal,
    service: TaskServiceDep,
    request: Request,
    idempotency: IdempotencyDep,
) -> Response:
    async def create() -> Response:
        task = await service.create(user, body)
        return Response(
            to_json({"success": True, "message": "Task created successfully", "data": task}),
            status_code=status.HTTP_201_CREATED,
            media_type="application/json",
            headers={"Location": f"{request.url.path.rstrip('/')}/{task['id']}"},
        )

    return await idempotency.run(body, create)


@router.patch("/{id:taskid}", responses=TASK_WRITE_ERRORS)
async def update_task(
    task_id: TaskId,
    body: TaskUpdate,
    user: CurrentPrincipal,
    service: TaskServiceDep,
    if_match: IfMatch = None,
) -> MessageEnvelope[TaskOut]:
    task = await service.update(task_id, user, body, if_match=Precondition.parse(if_match))
    return MessageEnvelope(message="Task updated successfully", data=TaskOut.model_validate(task))


@router.put(
    "/{id:taskid}",
    summary="Update Task (PUT, partial as in the original API)",
    responses=TASK_WRITE_ERRORS,
)
async def update_task_put(
    task_id: TaskId,
    body: TaskUpdate,
    user: CurrentPrincipal,
    service: TaskServiceDep,
    if_match: IfMatch = None,
) -> MessageEnvelope[TaskOut]:
    return await update_task(task_id, body, user, service, if_match)


@router.post("/{id:taskid}/move", responses=documented_errors(400, 401, 403, 404, 409, 413))
async def move_task(
    task_id: TaskId, body: TaskMove, user: CurrentPrincipal, service: TaskServiceDep
) -> MessageEnvelope[TaskOut]:
    """Place the task in a status column between two of its project's tasks (`afterId` and
    `beforeId`; one of them: right beside it; neither: the column's end)."""
    task = await service.move(task_id, user, body)
    return MessageEnvelope(message="Task moved successfully", data=TaskOut.model_validate(task))


@router.delete("/{id:taskid}", responses=documented_errors(400, 401, 403, 404, 412))
async def delete_task(
    task_id: TaskId, user: CurrentPrincipal, service: TaskServiceDep, if_match: IfMatch = None
) -> MessageEnvelope[dict[str, object]]:
    await service.delete(task_id, user, if_match=Precondition.parse(if_match))
    return MessageEnvelope(message="Task deleted successfully", data={})
