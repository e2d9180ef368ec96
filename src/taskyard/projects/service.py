from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from taskyard.cache.service import ResponseCache
from taskyard.errors import Conflict, Forbidden, NotFound, ValidationFailed
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
from taskyard.live.events import LiveEventType
from taskyard.live.service import LiveFeed
from taskyard.projects.models import Project, ProjectRole
from taskyard.projects.repository import ProjectRepository, role_by_rank
from taskyard.projects.schemas import (
    ProjectCreate,
    ProjectListQuery,
    ProjectUpdate,
    member_out,
    project_out,
)
from taskyard.teams.repository import TeamRepository
from taskyard.users.catch_up import active_person_by_email
from taskyard.users.repository import UserRepository


class ProjectNotFound(NotFound):
    # Also what someone outside the project gets: its existence is never revealed.
    message = "Project not found"


class RoleTooLow(Forbidden):
    message = "Your role in this project does not allow this"


class MemberNotFound(NotFound):
    message = "Member not found"


class PersonNotFound(NotFound):
    message = "No active account with this email"


class AlreadyMember(Conflict):
    message = "This person is already a member of the project"


class PersonalProjectIsPrivate(Conflict):
    message = "A personal project can't be shared, handed over or deleted"


class OwnerStays(Conflict):
    message = "The owner can't be removed or given another role; transfer the project first"


class TeamNotFound(NotFound):
    message = "Team not found"


class AlreadyShared(Conflict):
    message = "The project is already shared with this team"


async def role_required(
    projects: ProjectRepository,
    project_id: uuid.UUID,
    viewer: Viewer,
    needed: ProjectRole = ProjectRole.VIEWER,
) -> ProjectRole | None:
    """The caller's role in the project, which must include `needed`: 404 for someone outside
    it, 403 for a member whose role is too low. Account admins read every project (None: no
    role) and write in none they are not in."""
    role = await projects.role_of(project_id, viewer.id)
    if role is None:
        if not viewer.is_admin or await projects.get(project_id) is None:
            raise ProjectNotFound()
        if needed is not ProjectRole.VIEWER:
            raise RoleTooLow()
        return None
    if not role.includes(needed):
        raise RoleTooLow()
    return role


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """A project and the caller's role in it (None: an account admin reading it)."""

    project: Project
    role: ProjectRole | None


class ProjectService:
    def __init__(
        self,
        projects: ProjectRepository,
        users: UserRepository,
        teams: TeamRepository,
        cache: ResponseCache,
        events: EventPublisher,
        *,
        people_catch_up_seconds: float = 0.0,
    ) -> None:
        """`people_catch_up_seconds`: as the task service's (`TaskService`)."""
        self.people_catch_up_seconds = people_catch_up_seconds
        self.projects = projects
        self.users = users
        self.team_records = teams
        self.cache = cache
        self.live = LiveFeed(events)

    async def _tell(
        self,
        event_type: LiveEventType,
        project_id: uuid.UUID,
        viewer: Viewer,
        data: BaseModel | dict[str, Any],
        concerns: set[uuid.UUID] | frozenset[uuid.UUID] = frozenset(),
    ) -> None:
        await self.live.emit(
            event_type,
            project_id=project_id,
            actor_id=viewer.id,
            data=data.model_dump(mode="json", by_alias=True)
            if isinstance(data, BaseModel)
            else data,
            concerns=frozenset(concerns),
        )

    async def _tell_updated(
        self, project: Project, viewer: Viewer, concerns: set[uuid.UUID] | None = None
    ) -> None:
        # The role in a project is each reader's own: the event carries none.
        await self._tell(
            LiveEventType.PROJECT_UPDATED,
            project.id,
            viewer,
            project_out(project, None),
            concerns or frozenset(),
        )

    async def access(
        self, project_id: uuid.UUID, viewer: Viewer, needed: ProjectRole = ProjectRole.VIEWER
    ) -> ProjectAccess:
        """The project if the caller's role in it includes `needed` (`role_required`)."""
        role = await role_required(self.projects, project_id, viewer, needed)
        project = await self.projects.get(project_id)  # already loaded for an admin
        if project is None:
            raise ProjectNotFound()
        return ProjectAccess(project, role)

    async def list(
        self, viewer: Viewer, query: ProjectListQuery
    ) -> tuple[list[ProjectAccess], int]:
        """The caller's projects with their role in each (every project, for an admin's `all`)."""
        if query.all and not viewer.is_admin:
            raise Forbidden("Only admins can list every project")
        rows, total = await self.projects.page_for(
            None if query.all else viewer.id, limit=query.limit, offset=query.offset
        )
        return [ProjectAccess(row.Project, role_by_rank(row.rank)) for row in rows], total

    async def create(self, viewer: Viewer, data: ProjectCreate) -> ProjectAccess:
        project = Project(name=data.name, description=data.description, is_inbox=False)
        await self.projects.add(project, viewer.id)
        return ProjectAccess(project, ProjectRole.OWNER)

    async def update(
        self, project_id: uuid.UUID, viewer: Viewer, changes: ProjectUpdate
    ) -> ProjectAccess:
        access = await self.access(project_id, viewer, ProjectRole.ADMIN)
        for field, value in changes.changes().items():
            setattr(access.project, field, value)
        await self.projects.flush()
        await self._tell_updated(access.project, viewer)
        return access

    async def delete(self, project_id: uuid.UUID, viewer: Viewer) -> None:
        access = await self.access(project_id, viewer, ProjectRole.OWNER)
        if access.project.is_inbox:
            raise PersonalProjectIsPrivate()
        # Its tasks go with it: the views of whoever made or was given one are retired.
        self.cache.after_write(
            self.projects.session,
            await self.projects.people_with_tasks_in(project_id),
            {project_id},
            access=True,
        )
        await self._tell(
            LiveEventType.PROJECT_DELETED,
            project_id,
            viewer,
            project_out(access.project, None),
            concerns=await self.projects.everyone_in(project_id),
        )
        await self.projects.delete(access.project)

    # Members

    async def members(self, project_id: uuid.UUID, viewer: Viewer) -> Sequence[Any]:
        await self.access(project_id, viewer)
        return await self.projects.members(project_id)

    async def add_member(
        self, project_id: uuid.UUID, viewer: Viewer, email: str, role: ProjectRole
    ) -> Any:
        access = await self.access(project_id, viewer, ProjectRole.ADMIN)
        if access.project.is_inbox:
            raise PersonalProjectIsPrivate()
        person = await active_person_by_email(
            self.users, email, within=self.people_catch_up_seconds
        )
        if person is None:
            raise PersonNotFound()
        if await self.projects.member(project_id, person.id) is not None:
            raise AlreadyMember()
        await self.projects.add_member(project_id, person.id, role)
        self.cache.access_changed(self.projects.session, {project_id})
        row = await self._member_row(project_id, person.id)
        await self._tell(
            LiveEventType.PROJECT_MEMBER_ADDED, project_id, viewer, member_out(row), {person.id}
        )
        return row

    async def update_member(
        self, project_id: uuid.UUID, viewer: Viewer, user_id: uuid.UUID, role: ProjectRole
    ) -> Any:
        await self.access(project_id, viewer, ProjectRole.ADMIN)
        member = await self.projects.member(project_id, user_id)
        if member is None:
            raise MemberNotFound()
        if member.role is ProjectRole.OWNER:
            raise OwnerStays()
        await self.projects.set_role(project_id, user_id, role)
        self.cache.access_changed(self.projects.session, {project_id})
        await self._tell_updated(await self._project(project_id), viewer, {user_id})
        return await self._member_row(project_id, user_id)

    async def remove_member(
        self, project_id: uuid.UUID, viewer: Viewer, user_id: uuid.UUID
    ) -> None:
        # Anyone may leave; only admins and the owner remove others.
        needed = ProjectRole.VIEWER if user_id == viewer.id else ProjectRole.ADMIN
        await self.access(project_id, viewer, needed)
        member = await self.projects.member(project_id, user_id)
        if member is None:
            raise MemberNotFound()
        if member.role is ProjectRole.OWNER:
            raise OwnerStays()
        await self.projects.remove_member(project_id, user_id)
        self.cache.access_changed(self.projects.session, {project_id})
        await self._tell(
            LiveEventType.PROJECT_MEMBER_REMOVED,
            project_id,
            viewer,
            {"userId": str(user_id)},
            {user_id},
        )

    async def transfer(self, project_id: uuid.UUID, viewer: Viewer, user_id: uuid.UUID) -> Any:
        access = await self.access(project_id, viewer, ProjectRole.OWNER)
        if access.project.is_inbox:
            raise PersonalProjectIsPrivate()
        owner = await self.projects.owner_of(project_id)
        heir = await self.projects.member(project_id, user_id)
        if heir is None or owner is None or heir.user_id == owner.user_id:
            raise ValidationFailed("userId", "Must be another member of the project")
        await self.projects.set_role(project_id, owner.user_id, ProjectRole.ADMIN)
        await self.projects.set_role(project_id, user_id, ProjectRole.OWNER)
        self.cache.access_changed(self.projects.session, {project_id})
        await self._tell_updated(access.project, viewer, {user_id, owner.user_id})
        return await self._member_row(project_id, user_id)

    async def _project(self, project_id: uuid.UUID) -> Project:
        project = await self.projects.get(project_id)
        if project is None:
            raise ProjectNotFound()
        return project

    async def _member_row(self, project_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        rows = await self.projects.members(project_id)
        return next(row for row in rows if row.id == user_id)

    # Teams

    async def teams(self, project_id: uuid.UUID, viewer: Viewer) -> Sequence[Any]:
        await self.access(project_id, viewer)
        return await self.projects.teams(project_id)

    async def share_with_team(
        self, project_id: uuid.UUID, viewer: Viewer, team_id: uuid.UUID, role: ProjectRole
    ) -> Any:
        access = await self.access(project_id, viewer, ProjectRole.ADMIN)
        if access.project.is_inbox:
            raise PersonalProjectIsPrivate()
        # A team is shared with by one of its members: nobody learns of teams they aren't in.
        if (
            await self.team_records.get(team_id) is None
            or await self.team_records.member(team_id, viewer.id) is None
        ):
            raise TeamNotFound()
        if await self.projects.team_share(project_id, team_id) is not None:
            raise AlreadyShared()
        await self.projects.share_with_team(project_id, team_id, role)
        self.cache.access_changed(self.projects.session, {project_id})
        row = await self._team_row(project_id, team_id)
        await self._tell(
            LiveEventType.PROJECT_MEMBER_ADDED,
            project_id,
            viewer,
            {"teamId": str(team_id), "role": row.role.value},
            await self.team_records.member_ids(team_id),
        )
        return row

    async def update_team_share(
        self, project_id: uuid.UUID, viewer: Viewer, team_id: uuid.UUID, role: ProjectRole
    ) -> Any:
        await self.access(project_id, viewer, ProjectRole.ADMIN)
        share = await self.projects.team_share(project_id, team_id)
        if share is None:
            raise TeamNotFound()
        share.role = role
        await self.projects.flush()
        self.cache.access_changed(self.projects.session, {project_id})
        await self._tell_updated(
            await self._project(project_id), viewer, await self.team_records.member_ids(team_id)
        )
        return await self._team_row(project_id, team_id)

    async def unshare_with_team(
        self, project_id: uuid.UUID, viewer: Viewer, team_id: uuid.UUID
    ) -> None:
        await self.access(project_id, viewer, ProjectRole.ADMIN)
        if await self.projects.team_share(project_id, team_id) is None:
            raise TeamNotFound()
        await self.projects.unshare_with_team(project_id, team_id)
        self.cache.access_changed(self.projects.session, {project_id})
        await self._tell(
            LiveEventType.PROJECT_MEMBER_REMOVED,
            project_id,
            viewer,
            {"teamId": str(team_id)},
            await self.team_records.member_ids(team_id),
        )

    async def _team_row(self, project_id: uuid.UUID, team_id: uuid.UUID) -> Any:
        rows = await self.projects.teams(project_id)
        return next(row for row in rows if row.id == team_id)


async def hand_over_projects_of(projects: ProjectRepository, user_id: uuid.UUID) -> set[uuid.UUID]:
    """Before a person's account is deleted: each project they own goes to its next member by
    name (the highest role, the longest in it), or, with nobody else in it, is deleted with its
    tasks. Returns the people whose own views showed a task that went."""
    gone: set[uuid.UUID] = set()
    for project_id in await projects.owned_shared_projects(user_id):
        heir = await projects.successor(project_id, user_id)
        if heir is not None:
            await projects.set_role(project_id, heir, ProjectRole.OWNER)
            continue
        project = await projects.get(project_id)
        if project is not None:
            gone |= await projects.people_with_tasks_in(project_id)
            await projects.delete(project)
    return gone
