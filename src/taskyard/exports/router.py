from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import StreamingResponse

from taskyard.errors import documented_errors
from taskyard.exports.dependencies import ExportServiceDep
from taskyard.exports.models import Export, ExportStatus
from taskyard.exports.schemas import ExportOut, ExportRequest
from taskyard.idempotency.dependencies import IdempotencyDep
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.schemas import DataEnvelope, MessageEnvelope, envelope_response

router = APIRouter(prefix="/exports", tags=["exports"])

ExportId = Annotated[uuid.UUID, Path(alias="id", description="The export's id")]
CHUNK_BYTES = 64 * 1024


def _out(export: Export, request: Request) -> ExportOut:
    out = ExportOut.model_validate(export)
    if export.status is ExportStatus.DONE:
        out.download_url = str(request.url_for("download_export", id=str(export.id)).path)
    return out


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageEnvelope[ExportOut],
    responses=documented_errors(400, 401, 403, 409, 413, 422, 429),
)
async def request_export(
    body: ExportRequest,
    user: CurrentPrincipal,
    service: ExportServiceDep,
    request: Request,
    idempotency: IdempotencyDep,
) -> Response:
    async def queue() -> Response:
        export = await service.request(user, body)
        return envelope_response(
            MessageEnvelope(message="Export queued", data=_out(export, request)),
            status.HTTP_202_ACCEPTED,
            headers={"Location": str(request.url_for("get_export", id=str(export.id)).path)},
        )

    return await idempotency.run(body, queue)


@router.get("/{id}", responses=documented_errors(400, 401, 404))
async def get_export(
    export_id: ExportId, user: CurrentPrincipal, service: ExportServiceDep, request: Request
) -> DataEnvelope[ExportOut]:
    return DataEnvelope(data=_out(await service.get(export_id, user), request))


@router.get(
    "/{id}/download",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, as CSV or JSON",
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
        },
        **documented_errors(400, 401, 404, 409),
    },
)
async def download_export(
    export_id: ExportId, user: CurrentPrincipal, service: ExportServiceDep
) -> StreamingResponse:
    export = await service.content(export_id, user)
    content = export.content or b""

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), CHUNK_BYTES):
            yield content[start : start + CHUNK_BYTES]

    filename = f"taskyard-export-{export.id}.{export.format.value}"
    return StreamingResponse(
        chunks(),
        media_type=export.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(len(content)),
        },
    )
