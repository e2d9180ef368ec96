from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    func,
    null,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import insert_ignoring_conflicts
from taskyard.projects.models import Project, ProjectMember, ProjectRole, ProjectTeam
from taskyard.projects.personal import personal_project_rows
from taskyard.tasks.models import Task
from taskyard.teams.models import Team, TeamMember
from taskyard.users.models import User

_ROLE_BY_RANK = {role.rank: role for role in ProjectRole}


def role_by_rank(rank: int | None) -> ProjectRole | None:
    return None if rank is None else _ROLE_BY_RANK[int(rank)]


def _rank(role: Any) -> ColumnElement[int]:
    return case({member.value: member.rank for member in ProjectRole}, value=role)


def _ranks(user_id: uuid.UUID) -> Select[Any]:
    """(project, rank) for each way this person is in a project: by name, and through each
    team the project is shared with."""
    direct = select(
        ProjectMember.project_id.label("project_id"), _rank(ProjectMember.role).label("rank")
    ).where(ProjectMember.user_id == user_id)
    through_teams = (
        select(ProjectTeam.project_id.label("project_id"), _rank(ProjectTeam.role).label("rank"))
        .join(TeamMember, TeamMember.team_id == ProjectTeam.team_id)
        .where(TeamMember.user_id == user_id)
    )
    return union_all(direct, through_teams)  # type: ignore[return-value]


def memberships_of(user_id: Any) -> tuple[Select[Any], Select[Any]]:
    """The ids of the projects this person is in by name, and through a team (`user_id` may
    be a bound parameter)."""
    return (
        select(ProjectMember.project_id).where(ProjectMember.user_id == user_id),
        select(ProjectTeam.project_id)
        .join(TeamMember, TeamMember.team_id == ProjectTeam.team_id)
        .where(TeamMember.user_id == user_id),
    )


def projects_of(user_id: Any) -> Select[Any]:
    """The ids of the projects this person is in (a subquery for the task statements)."""
    return union(*memberships_of(user_id))  # type: ignore[return-value]


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, project_id: uuid.UUID) -> Project | None:
        return await self.session.get(Project, project_id)

    async def role_of(self, project_id: uuid.UUID, user_id: uuid.UUID) -> ProjectRole | None:
        """The person's role in the project: the highest of their own and their teams'."""
        ranks = _ranks(user_id).subquery()
        rank = await self.session.scalar(
            select(func.max(ranks.c.rank)).where(ranks.c.project_id == project_id)
        )
        return role_by_rank(rank)

    async def is_personal(self, project_id: uuid.UUID) -> bool:
        """Whether this is someone's personal project (nobody else can join one)."""
        return bool(
            await self.session.scalar(select(Project.is_inbox).where(Project.id == project_id))
        )

    async def page_for(
        self, user_id: uuid.UUID | None, *, limit: int, offset: int
    ) -> tuple[Sequence[Any], int]:
        """The projects this person is in with their role (everyone's, role null, for None):
        the personal project first, then oldest first."""
        if user_id is None:
            query = select(Project, null().label("rank"))
            total_query = select(func.count()).select_from(Project)
        else:
            ranks = _ranks(user_id).subquery()
            best = (
                select(ranks.c.project_id, func.max(ranks.c.rank).label("rank"))
                .group_by(ranks.c.project_id)
                .subquery()
            )
            query = select(Project, best.c.rank).join(best, best.c.project_id == Project.id)
            total_query = select(func.count()).select_from(best)
        rows = (
            await self.session.execute(
                query.order_by(Project.is_inbox.desc(), Project.created_at, Project.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return rows, int(await self.session.scalar(total_query) or 0)

    async def add_personal(self, user_id: uuid.UUID) -> None:
        """The person's personal project, unless it is there already."""
        project, owner = personal_project_rows(user_id)
        await self.session.execute(insert_ignoring_conflicts(self.session, Project).values(project))
        await self.session.execute(
            insert_ignoring_conflicts(self.session, ProjectMember).values(owner)
        )

    async def add(self, project: Project, owner_id: uuid.UUID) -> None:
        self.session.add(project)
        await self.session.flush()
        await self.add_member(project.id, owner_id, ProjectRole.OWNER)

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, project: Project) -> None:
        await self.session.execute(delete(Project).where(Project.id == project.id))
        self.session.expunge(project)

    async def people_with_tasks_in(self, project_id: uuid.UUID) -> set[uuid.UUID]:
        """The creators and assignees of the project's tasks: whose own views show them."""
        rows = await self.session.execute(
            select(Task.created_by_id, Task.assignee_id).where(Task.project_id == project_id)
        )
        return {person for row in rows.all() for person in row if person is not None}

    async def projects_of_people(self, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
        """Each person's projects, by name or through a team: one statement for them all."""
        direct = select(ProjectMember.user_id, ProjectMember.project_id).where(
            ProjectMember.user_id.in_(user_ids)
        )
        through_teams = (
            select(TeamMember.user_id, ProjectTeam.project_id)
            .join(TeamMember, TeamMember.team_id == ProjectTeam.team_id)
            .where(TeamMember.user_id.in_(user_ids))
        )
        found: dict[uuid.UUID, set[uuid.UUID]] = {person: set() for person in user_ids}
        for person, project_id in (await self.session.execute(union(direct, through_teams))).all():
            found[person].add(project_id)
        return found

    async def everyone_in(self, project_id: uuid.UUID) -> set[uuid.UUID]:
        """Every person in the project, by name or through a team."""
        direct = select(ProjectMember.user_id).where(ProjectMember.project_id == project_id)
        through_teams = (
            select(TeamMember.user_id)
            .join(ProjectTeam, ProjectTeam.team_id == TeamMember.team_id)
            .where(ProjectTeam.project_id == project_id)
        )
        return set((await self.session.scalars(union(direct, through_teams))).all())

    # Members by name

    async def member(self, project_id: uuid.UUID, user_id: uuid.UUID) -> ProjectMember | None:
        return await self.session.get(ProjectMember, (project_id, user_id))

    async def owner_of(self, project_id: uuid.UUID) -> ProjectMember | None:
        return await self.session.scalar(
            select(ProjectMember).where(
                ProjectMember.project_id == project_id, ProjectMember.role == ProjectRole.OWNER
            )
        )

    async def add_member(
        self, project_id: uuid.UUID, user_id: uuid.UUID, role: ProjectRole
    ) -> None:
        self.session.add(ProjectMember(project_id=project_id, user_id=user_id, role=role))
        await self.session.flush()

    async def set_role(self, project_id: uuid.UUID, user_id: uuid.UUID, role: ProjectRole) -> None:
        await self.session.execute(
            update(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
            .values(role=role)
        )

    async def remove_member(self, project_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(ProjectMember).where(
                ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
            )
        )

    async def members(self, project_id: uuid.UUID) -> Sequence[Any]:
        """The project's members by name, with their names and emails, oldest first."""
        rows = await self.session.execute(
            select(User.id, User.name, User.email, ProjectMember.role, ProjectMember.created_at)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == project_id)
            .order_by(ProjectMember.created_at, User.id)
        )
        return rows.all()

    # Teams the project is shared with

    async def team_share(self, project_id: uuid.UUID, team_id: uuid.UUID) -> ProjectTeam | None:
        return await self.session.get(ProjectTeam, (project_id, team_id))

    async def share_with_team(
        self, project_id: uuid.UUID, team_id: uuid.UUID, role: ProjectRole
    ) -> None:
        self.session.add(ProjectTeam(project_id=project_id, team_id=team_id, role=role))
        await self.session.flush()

    async def unshare_with_team(self, project_id: uuid.UUID, team_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(ProjectTeam).where(
                ProjectTeam.project_id == project_id, ProjectTeam.team_id == team_id
            )
        )

    async def teams(self, project_id: uuid.UUID) -> Sequence[Any]:
        rows = await self.session.execute(
            select(Team.id, Team.name, ProjectTeam.role, ProjectTeam.created_at)
            .join(ProjectTeam, ProjectTeam.team_id == Team.id)
            .where(ProjectTeam.project_id == project_id)
            .order_by(ProjectTeam.created_at, Team.id)
        )
        return rows.all()

    async def owned_shared_projects(self, user_id: uuid.UUID) -> Sequence[uuid.UUID]:
        """The projects other than their personal one that this person owns."""
        rows = await self.session.scalars(
            select(ProjectMember.project_id).where(
                ProjectMember.user_id == user_id,
                ProjectMember.role == ProjectRole.OWNER,
                ProjectMember.project_id != user_id,
            )
        )
        return rows.all()

    async def successor(self, project_id: uuid.UUID, leaving: uuid.UUID) -> uuid.UUID | None:
        """Who owns the project after its owner's account is gone: the member by name of the
        highest role, the longest in it first."""
        return await self.session.scalar(
            select(ProjectMember.user_id)
            .where(ProjectMember.project_id == project_id, ProjectMember.user_id != leaving)
            .order_by(_rank(ProjectMember.role).desc(), ProjectMember.created_at)
            .limit(1)
        )
