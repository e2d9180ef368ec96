from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from taskyard.errors import documented_errors
from taskyard.identity.dependencies import require_role
from taskyard.schemas import DataEnvelope, ListEnvelope, MessageEnvelope
from taskyard.users.dependencies import UserServiceDep
from taskyard.users.schemas import UserListQuery, UserOut, UserUpdate

UserId = Annotated[uuid.UUID, Path(alias="id", description="The user's id")]

router = APIRouter(
    prefix="/users",
    tags=["users"],
    dependencies=[Depends(require_role("admin"))],
    responses=documented_errors(401, 403),
)


@router.get("", responses=documented_errors(400))
async def list_users(
    query: Annotated[UserListQuery, Query()], service: UserServiceDep
) -> ListEnvelope[UserOut]:
    users, total = await service.list(query)
    return ListEnvelope.build(
        [UserOut.model_validate(user) for user in users],
        total=total,
        page=query.page,
        limit=query.limit,
    )


@router.get("/{id}", responses=documented_errors(400, 404))
async def get_user(user_id: UserId, service: UserServiceDep) -> DataEnvelope[UserOut]:
    return DataEnvelope(data=UserOut.model_validate(await service.get(user_id)))


@router.patch("/{id}", responses=documented_errors(400, 404, 409, 413))
async def update_user(
    user_id: UserId, body: UserUpdate, service: UserServiceDep
) -> MessageEnvelope[UserOut]:
    user = await service.update(user_id, body)
    return MessageEnvelope(message="User updated successfully", data=UserOut.model_validate(user))


@router.delete("/{id}", responses=documented_errors(400, 404, 409))
async def delete_user(
    user_id: UserId, service: UserServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.delete(user_id)
    return MessageEnvelope(message="User deleted successfully", data={})
