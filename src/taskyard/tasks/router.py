from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from taskyard.auth.dependencies import AdminUser, CurrentUser
from taskyard.schemas import DataEnvelope, ListEnvelope, MessageEnvelope, PageQuery
from taskyard.tasks.dependencies import TaskServiceDep
from taskyard.tasks.models import Task
from taskyard.tasks.schemas import (
    AdminTaskListQuery,
    TaskCreate,
    TaskListQuery,
    TaskOut,
    TaskStats,
    TaskUpdate,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])

TaskId = Annotated[uuid.UUID, Path(alias="id", description="The task's id")]


def _task_list(tasks: Sequence[Task], total: int, query: PageQuery) -> ListEnvelope[TaskOut]:
    return ListEnvelope.build(
        [TaskOut.model_validate(task) for task in tasks],
        total=total,
        page=query.page,
        limit=query.limit,
    )


@router.get("")
async def list_tasks(
    query: Annotated[TaskListQuery, Query()], user: CurrentUser, service: TaskServiceDep
) -> ListEnvelope[TaskOut]:
    tasks, total = await service.list_own(user, query)
    return _task_list(tasks, total, query)


@router.get("/stats")
async def task_stats(user: CurrentUser, service: TaskServiceDep) -> DataEnvelope[TaskStats]:
    return DataEnvelope(data=await service.stats(user))


@router.get("/admin/all")
async def list_all_tasks(
    query: Annotated[AdminTaskListQuery, Query()], _admin: AdminUser, service: TaskServiceDep
) -> ListEnvelope[TaskOut]:
    tasks, total = await service.list_all(query)
    return _task_list(tasks, total, query)


@router.get("/{id}")
async def get_task(
    task_id: TaskId, user: CurrentUser, service: TaskServiceDep
) -> DataEnvelope[TaskOut]:
    return DataEnvelope(data=TaskOut.model_validate(await service.get(task_id, user)))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_task(
    body: TaskCreate,
    user: CurrentUser,
    service: TaskServiceDep,
    request: Request,
    response: Response,
) -> MessageEnvelope[TaskOut]:
    task = await service.create(user, body)
    response.headers["Location"] = str(request.url_for("get_task", id=str(task.id)).path)
    return MessageEnvelope(message="Task created successfully", data=TaskOut.model_validate(task))


@router.patch("/{id}")
async def update_task(
    task_id: TaskId, body: TaskUpdate, user: CurrentUser, service: TaskServiceDep
) -> MessageEnvelope[TaskOut]:
    task = await service.update(task_id, user, body)
    return MessageEnvelope(message="Task updated successfully", data=TaskOut.model_validate(task))


@router.put("/{id}", summary="Update Task (PUT, partial as in the original API)")
async def update_task_put(
    task_id: TaskId, body: TaskUpdate, user: CurrentUser, service: TaskServiceDep
) -> MessageEnvelope[TaskOut]:
    return await update_task(task_id, body, user, service)


@router.delete("/{id}")
async def delete_task(
    task_id: TaskId, user: CurrentUser, service: TaskServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.delete(task_id, user)
    return MessageEnvelope(message="Task deleted successfully", data={})
