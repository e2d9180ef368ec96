from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from taskyard.comments.dependencies import CommentServiceDep
from taskyard.comments.schemas import CommentInput, CommentOut, comment_out
from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.schemas import ListEnvelope, MessageEnvelope, PageQuery

router = APIRouter(prefix="/tasks", tags=["comments"], responses=documented_errors(401))

TaskId = Annotated[uuid.UUID, Path(alias="id", description="The task's id")]
CommentId = Annotated[uuid.UUID, Path(alias="commentId", description="The comment's id")]
WRITE_ERRORS = documented_errors(400, 403, 404, 413)


@router.get("/{id}/comments", responses=documented_errors(400, 404))
async def list_comments(
    task_id: TaskId,
    query: Annotated[PageQuery, Query()],
    user: CurrentPrincipal,
    service: CommentServiceDep,
) -> ListEnvelope[CommentOut]:
    rows, total = await service.list(task_id, user, query)
    comments = [comment_out(comment, author) for comment, author in rows]
    return ListEnvelope.build(comments, total=total, page=query.page, limit=query.limit)


@router.post("/{id}/comments", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def add_comment(
    task_id: TaskId, body: CommentInput, user: CurrentPrincipal, service: CommentServiceDep
) -> MessageEnvelope[CommentOut]:
    comment = await service.create(task_id, user, body.body)
    return MessageEnvelope(message="Comment added successfully", data=comment)


@router.patch("/{id}/comments/{commentId}", responses=WRITE_ERRORS)
async def update_comment(
    task_id: TaskId,
    comment_id: CommentId,
    body: CommentInput,
    user: CurrentPrincipal,
    service: CommentServiceDep,
) -> MessageEnvelope[CommentOut]:
    comment = await service.update(task_id, comment_id, user, body.body)
    author = await service.users.get(user.id)
    return MessageEnvelope(
        message="Comment updated successfully", data=comment_out(comment, author)
    )


@router.delete("/{id}/comments/{commentId}", responses=WRITE_ERRORS)
async def delete_comment(
    task_id: TaskId, comment_id: CommentId, user: CurrentPrincipal, service: CommentServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.delete(task_id, comment_id, user)
    return MessageEnvelope(message="Comment deleted successfully", data={})
