from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from taskyard.cache.service import ResponseCache
from taskyard.errors import Conflict, Forbidden, NotFound
from taskyard.identity import Viewer
from taskyard.jobs.service import EventPublisher
from taskyard.live.events import LiveEventType
from taskyard.live.service import LiveFeed
from taskyard.schemas import PageQuery
from taskyard.teams.models import Team, TeamMember
from taskyard.teams.repository import TeamRepository
from taskyard.users.catch_up import active_person_by_email
from taskyard.users.repository import UserRepository


class TeamNotFound(NotFound):
    # Also what someone outside the team gets.
    message = "Team not found"


class NotTheManager(Forbidden):
    message = "Only the team's manager can change its members"


class NotInTheTeam(NotFound):
    message = "Member not found"


class AlreadyInTheTeam(Conflict):
    message = "This person is already in the team"


class ManagerStays(Conflict):
    message = "The team's manager can't leave it"


class NoSuchPerson(NotFound):
    message = "No active account with this email"


class TeamService:
    def __init__(
        self,
        teams: TeamRepository,
        users: UserRepository,
        cache: ResponseCache,
        events: EventPublisher,
        *,
        people_catch_up_seconds: float = 0.0,
    ) -> None:
        self.cache = cache
        self.live = LiveFeed(events)
        self.people_catch_up_seconds = people_catch_up_seconds
        self.teams = teams
        self.users = users

    async def _membership(self, team_id: uuid.UUID, viewer: Viewer) -> TeamMember | None:
        """The caller's place in the team; 404 for someone outside it (admins read any)."""
        if await self.teams.get(team_id) is None:
            raise TeamNotFound()
        membership = await self.teams.member(team_id, viewer.id)
        if membership is None and not viewer.is_admin:
            raise TeamNotFound()
        return membership

    async def _managed(self, team_id: uuid.UUID, viewer: Viewer) -> None:
        membership = await self._membership(team_id, viewer)
        if membership is None or not membership.is_manager:
            raise NotTheManager()

    async def create(self, viewer: Viewer, name: str) -> Team:
        team = Team(name=name)
        await self.teams.add(team, viewer.id)
        return team

    async def list(self, viewer: Viewer, query: PageQuery) -> tuple[Sequence[Any], int]:
        return await self.teams.page_for(viewer.id, limit=query.limit, offset=query.offset)

    async def members(self, team_id: uuid.UUID, viewer: Viewer) -> Sequence[Any]:
        await self._membership(team_id, viewer)
        return await self.teams.members(team_id)

    async def add_member(self, team_id: uuid.UUID, viewer: Viewer, email: str) -> Any:
        await self._managed(team_id, viewer)
        person = await active_person_by_email(
            self.users, email, within=self.people_catch_up_seconds
        )
        if person is None:
            raise NoSuchPerson()
        if await self.teams.member(team_id, person.id) is not None:
            raise AlreadyInTheTeam()
        await self.teams.add_member(team_id, person.id, manager=False)
        await self._access_changed(team_id, viewer, person.id, joined=True)
        rows = await self.teams.members(team_id)
        return next(row for row in rows if row.id == person.id)

    async def remove_member(self, team_id: uuid.UUID, viewer: Viewer, user_id: uuid.UUID) -> None:
        """The manager removes anyone else; a member may leave."""
        if user_id == viewer.id:
            membership = await self._membership(team_id, viewer)
            if membership is None:
                raise NotInTheTeam()
            if membership.is_manager:
                raise ManagerStays()
        else:
            await self._managed(team_id, viewer)
            if await self.teams.member(team_id, user_id) is None:
                raise NotInTheTeam()
        await self.teams.remove_member(team_id, user_id)
        await self._access_changed(team_id, viewer, user_id, joined=False)

    async def _access_changed(
        self, team_id: uuid.UUID, viewer: Viewer, person_id: uuid.UUID, *, joined: bool
    ) -> None:
        """Who is in the team decides who is in the projects shared with it."""
        projects = await self.teams.projects_shared_with(team_id)
        self.cache.access_changed(self.teams.session, projects)
        for project_id in projects:
            await self.live.emit(
                LiveEventType.PROJECT_MEMBER_ADDED
                if joined
                else LiveEventType.PROJECT_MEMBER_REMOVED,
                project_id=project_id,
                actor_id=viewer.id,
                data={"userId": str(person_id), "teamId": str(team_id)},
                concerns=frozenset({person_id}),
            )
