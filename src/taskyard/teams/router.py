from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.schemas import (
    DataEnvelope,
    ListEnvelope,
    MessageEnvelope,
    PageQuery,
    envelope_response,
)
from taskyard.teams.dependencies import TeamServiceDep
from taskyard.teams.schemas import TeamCreate, TeamMemberAdd, TeamMemberOut, TeamOut

router = APIRouter(prefix="/teams", tags=["teams"], responses=documented_errors(401))

TeamId = Annotated[uuid.UUID, Path(alias="id", description="The team's id")]
UserId = Annotated[uuid.UUID, Path(alias="userId", description="The member's user id")]
WRITE_ERRORS = documented_errors(400, 403, 404, 409, 413)


def _team_out(team: Any, is_manager: bool) -> TeamOut:
    return TeamOut(
        id=team.id,
        mongo_id=team.id,
        name=team.name,
        is_manager=is_manager,
        created_at=team.created_at,
    )


def _member_out(row: Any) -> TeamMemberOut:
    return TeamMemberOut(
        id=row.id,
        mongo_id=row.id,
        name=row.name,
        email=row.email,
        is_manager=row.is_manager,
        added_at=row.created_at,
    )


@router.get("", responses=documented_errors(400))
async def list_teams(
    query: Annotated[PageQuery, Query()], user: CurrentPrincipal, service: TeamServiceDep
) -> ListEnvelope[TeamOut]:
    rows, total = await service.list(user, query)
    teams = [_team_out(row.Team, row.is_manager) for row in rows]
    return ListEnvelope.build(teams, total=total, page=query.page, limit=query.limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageEnvelope[TeamOut],
    responses=documented_errors(400, 413),
)
async def create_team(
    body: TeamCreate, user: CurrentPrincipal, service: TeamServiceDep, request: Request
) -> Response:
    team = await service.create(user, body.name)
    envelope: MessageEnvelope[TeamOut] = MessageEnvelope(
        message="Team created successfully", data=_team_out(team, True)
    )
    location = f"{request.url.path.rstrip('/')}/{team.id}"
    return envelope_response(envelope, status.HTTP_201_CREATED, {"Location": location})


@router.get("/{id}/members", responses=documented_errors(400, 404))
async def list_team_members(
    team_id: TeamId, user: CurrentPrincipal, service: TeamServiceDep
) -> DataEnvelope[list[TeamMemberOut]]:
    return DataEnvelope(data=[_member_out(row) for row in await service.members(team_id, user)])


@router.post("/{id}/members", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def add_team_member(
    team_id: TeamId, body: TeamMemberAdd, user: CurrentPrincipal, service: TeamServiceDep
) -> MessageEnvelope[TeamMemberOut]:
    row = await service.add_member(team_id, user, body.email)
    return MessageEnvelope(message="Member added successfully", data=_member_out(row))


@router.delete("/{id}/members/{userId}", responses=WRITE_ERRORS)
async def remove_team_member(
    team_id: TeamId, user_id: UserId, user: CurrentPrincipal, service: TeamServiceDep
) -> MessageEnvelope[dict[str, object]]:
    await service.remove_member(team_id, user, user_id)
    return MessageEnvelope(message="Member removed successfully", data={})
