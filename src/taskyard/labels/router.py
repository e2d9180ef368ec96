from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.labels.dependencies import LabelServiceDep
from taskyard.labels.schemas import LabelCreate, LabelOut, LabelUpdate
from taskyard.schemas import DataEnvelope, MessageEnvelope, envelope_response

router = APIRouter(prefix="/projects", tags=["labels"], responses=documented_errors(401))

ProjectId = Annotated[uuid.UUID, Path(alias="id", description="The project's id")]
LabelId = Annotated[uuid.UUID, Path(alias="labelId", description="The label's id")]
WRITE_ERRORS = documented_errors(400, 403, 404, 413)


@router.get("/{id}/labels", responses=documented_errors(400, 404))
async def list_labels(
    project_id: ProjectId, user: CurrentPrincipal, service: LabelServiceDep
) -> DataEnvelope[list[LabelOut]]:
    labels = await service.list(project_id, user)
    return DataEnvelope(data=[LabelOut.model_validate(label) for label in labels])


@router.post(
    "/{id}/labels",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageEnvelope[LabelOut],
    responses=WRITE_ERRORS,
)
async def create_label(
    project_id: ProjectId,
    body: LabelCreate,
    user: CurrentPrincipal,
    service: LabelServiceDep,
    request: Request,
) -> Response:
    label = await service.create(project_id, user, body)
    envelope: MessageEnvelope[LabelOut] = MessageEnvelope(
        message="Label created successfully", data=LabelOut.model_validate(label)
    )
    location = f"{request.url.path.rstrip('/')}/{label.id}"
    return envelope_response(envelope, status.HTTP_201_CREATED, {"Location": location})


@router.patch("/{id}/labels/{labelId}", responses=WRITE_ERRORS)
async def update_label(
    project_id: ProjectId,
    label_id: LabelId,
    body: LabelUpdate,
    user: CurrentPrincipal,
    service: LabelServiceDep,
) -> MessageEnvelope[LabelOut]:
    label = await service.update(project_id, label_id, user, body)
    return MessageEnvelope(
        message="Label updated successfully", data=LabelOut.model_validate(label)
    )


@router.delete("/{id}/labels/{labelId}", responses=WRITE_ERRORS)
async def delete_label(
    project_id: ProjectId, label_id: LabelId, user: CurrentPrincipal, service: LabelServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.delete(project_id, label_id, user)
    return MessageEnvelope(message="Label deleted successfully", data={})
