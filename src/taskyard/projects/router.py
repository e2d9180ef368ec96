from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.projects.dependencies import ProjectServiceDep
from taskyard.projects.models import ProjectRole
from taskyard.projects.schemas import (
    MemberAdd,
    MemberOut,
    MemberUpdate,
    ProjectCreate,
    ProjectListQuery,
    ProjectOut,
    ProjectUpdate,
    SharedTeamOut,
    TeamShare,
    TeamShareUpdate,
    Transfer,
    member_out,
    project_out,
    team_out,
)
from taskyard.projects.service import ProjectAccess
from taskyard.schemas import DataEnvelope, ListEnvelope, MessageEnvelope, envelope_response

router = APIRouter(prefix="/projects", tags=["projects"], responses=documented_errors(401))

ProjectId = Annotated[uuid.UUID, Path(alias="id", description="The project's id")]
UserId = Annotated[uuid.UUID, Path(alias="userId", description="The member's user id")]
TeamId = Annotated[uuid.UUID, Path(alias="teamId", description="The team's id")]
READ_ERRORS = documented_errors(400, 404)
WRITE_ERRORS = documented_errors(400, 403, 404, 409, 413)


def _project_out(access: ProjectAccess) -> ProjectOut:
    return project_out(access.project, access.role)


@router.get("", responses=documented_errors(400, 403))
async def list_projects(
    query: Annotated[ProjectListQuery, Query()], user: CurrentPrincipal, service: ProjectServiceDep
) -> ListEnvelope[ProjectOut]:
    found, total = await service.list(user, query)
    projects = [_project_out(access) for access in found]
    return ListEnvelope.build(projects, total=total, page=query.page, limit=query.limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageEnvelope[ProjectOut],
    responses=documented_errors(400, 413),
)
async def create_project(
    body: ProjectCreate, user: CurrentPrincipal, service: ProjectServiceDep, request: Request
) -> Response:
    access = await service.create(user, body)
    envelope: MessageEnvelope[ProjectOut] = MessageEnvelope(
        message="Project created successfully", data=_project_out(access)
    )
    location = f"{request.url.path.rstrip('/')}/{access.project.id}"
    return envelope_response(envelope, status.HTTP_201_CREATED, {"Location": location})


@router.get("/{id}", responses=READ_ERRORS)
async def get_project(
    project_id: ProjectId, user: CurrentPrincipal, service: ProjectServiceDep
) -> DataEnvelope[ProjectOut]:
    return DataEnvelope(data=_project_out(await service.access(project_id, user)))


@router.patch("/{id}", responses=WRITE_ERRORS)
async def update_project(
    project_id: ProjectId, body: ProjectUpdate, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[ProjectOut]:
    access = await service.update(project_id, user, body)
    return MessageEnvelope(message="Project updated successfully", data=_project_out(access))


@router.delete("/{id}", responses=WRITE_ERRORS)
async def delete_project(
    project_id: ProjectId, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.delete(project_id, user)
    return MessageEnvelope(message="Project deleted successfully", data={})


@router.get("/{id}/members", responses=READ_ERRORS)
async def list_members(
    project_id: ProjectId, user: CurrentPrincipal, service: ProjectServiceDep
) -> DataEnvelope[list[MemberOut]]:
    return DataEnvelope(data=[member_out(row) for row in await service.members(project_id, user)])


@router.post(
    "/{id}/members",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
async def add_member(
    project_id: ProjectId, body: MemberAdd, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[MemberOut]:
    row = await service.add_member(project_id, user, body.email, ProjectRole(body.role))
    return MessageEnvelope(message="Member added successfully", data=member_out(row))


@router.patch("/{id}/members/{userId}", responses=WRITE_ERRORS)
async def update_member(
    project_id: ProjectId,
    user_id: UserId,
    body: MemberUpdate,
    user: CurrentPrincipal,
    service: ProjectServiceDep,
) -> MessageEnvelope[MemberOut]:
    row = await service.update_member(project_id, user, user_id, ProjectRole(body.role))
    return MessageEnvelope(message="Member updated successfully", data=member_out(row))


@router.delete("/{id}/members/{userId}", responses=WRITE_ERRORS)
async def remove_member(
    project_id: ProjectId, user_id: UserId, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.remove_member(project_id, user, user_id)
    return MessageEnvelope(message="Member removed successfully", data={})


@router.post("/{id}/transfer", responses=WRITE_ERRORS)
async def transfer_project(
    project_id: ProjectId, body: Transfer, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[MemberOut]:
    row = await service.transfer(project_id, user, body.user_id)
    return MessageEnvelope(message="Project transferred successfully", data=member_out(row))


@router.get("/{id}/teams", responses=READ_ERRORS)
async def list_teams(
    project_id: ProjectId, user: CurrentPrincipal, service: ProjectServiceDep
) -> DataEnvelope[list[SharedTeamOut]]:
    return DataEnvelope(data=[team_out(row) for row in await service.teams(project_id, user)])


@router.post("/{id}/teams", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def share_with_team(
    project_id: ProjectId, body: TeamShare, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[SharedTeamOut]:
    row = await service.share_with_team(project_id, user, body.team_id, ProjectRole(body.role))
    return MessageEnvelope(message="Project shared with the team", data=team_out(row))


@router.patch("/{id}/teams/{teamId}", responses=WRITE_ERRORS)
async def update_team_share(
    project_id: ProjectId,
    team_id: TeamId,
    body: TeamShareUpdate,
    user: CurrentPrincipal,
    service: ProjectServiceDep,
) -> MessageEnvelope[SharedTeamOut]:
    row = await service.update_team_share(project_id, user, team_id, ProjectRole(body.role))
    return MessageEnvelope(message="Team's role updated successfully", data=team_out(row))


@router.delete("/{id}/teams/{teamId}", responses=WRITE_ERRORS)
async def unshare_with_team(
    project_id: ProjectId, team_id: TeamId, user: CurrentPrincipal, service: ProjectServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.unshare_with_team(project_id, user, team_id)
    return MessageEnvelope(message="Project no longer shared with the team", data={})
