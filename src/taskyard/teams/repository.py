from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.projects.models import ProjectTeam
from taskyard.teams.models import Team, TeamMember
from taskyard.users.models import User


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: uuid.UUID) -> Team | None:
        return await self.session.get(Team, team_id)

    async def add(self, team: Team, manager_id: uuid.UUID) -> None:
        self.session.add(team)
        await self.session.flush()
        await self.add_member(team.id, manager_id, manager=True)

    async def member(self, team_id: uuid.UUID, user_id: uuid.UUID) -> TeamMember | None:
        return await self.session.get(TeamMember, (team_id, user_id))

    async def add_member(self, team_id: uuid.UUID, user_id: uuid.UUID, *, manager: bool) -> None:
        self.session.add(TeamMember(team_id=team_id, user_id=user_id, is_manager=manager))
        await self.session.flush()

    async def remove_member(self, team_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
        )

    async def member_ids(self, team_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(TeamMember.user_id).where(TeamMember.team_id == team_id)
        )
        return set(rows.all())

    async def members(self, team_id: uuid.UUID) -> Sequence[Any]:
        rows = await self.session.execute(
            select(User.id, User.name, User.email, TeamMember.is_manager, TeamMember.created_at)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team_id)
            .order_by(TeamMember.created_at, User.id)
        )
        return rows.all()

    async def page_for(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Any], int]:
        """The teams this person is in, and whether they manage each, oldest first."""
        mine = (
            select(Team, TeamMember.is_manager)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user_id)
        )
        rows = await self.session.execute(
            mine.order_by(Team.created_at, Team.id).limit(limit).offset(offset)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(TeamMember).where(TeamMember.user_id == user_id)
        )
        return rows.all(), int(total or 0)

    async def projects_shared_with(self, team_id: uuid.UUID) -> Sequence[uuid.UUID]:
        rows = await self.session.scalars(
            select(ProjectTeam.project_id).where(ProjectTeam.team_id == team_id)
        )
        return rows.all()
