from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.auth.repository import AuthRepository
from taskyard.cache.service import ResponseCache
from taskyard.db import after_commit, utc_now
from taskyard.errors import Conflict, NotFound
from taskyard.identity import IdentityStore, stamp_of
from taskyard.identity.roles import Role
from taskyard.users.feed import AccountFeed
from taskyard.users.models import User
from taskyard.users.repository import UserRepository
from taskyard.users.schemas import UserListQuery, UserUpdate


class UserNotFound(NotFound):
    message = "User not found"


class LastAdmin(Conflict):
    message = "The last active admin cannot be demoted, deactivated or deleted"


class SharedTasks(Protocol):
    """What accounts must know of the tasks that show a person. The tasks domain provides it
    and the application wires it in, so that `users` never imports `tasks`."""

    async def lock_shared_with(self, user_id: uuid.UUID) -> None:
        """Lock the tasks the person owns or is assigned (before their own row)."""
        ...

    async def people_sharing_with(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """Everyone whose task views show the person, the person included."""
        ...

    async def hand_over_projects_of(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """Before the person's account goes: the projects they own go to another member, or
        with their tasks; returns the people whose views showed a task that went."""
        ...

    async def projects_showing(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """The projects the person is in, or whose tasks show them."""
        ...


SharedTasksFor = Callable[[AsyncSession], SharedTasks]


class NoSharedTasks:
    """The split auth service's: it holds no tasks. The task service freshens the views that
    show a renamed or deleted person when their `user.*` event reaches it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_shared_with(self, user_id: uuid.UUID) -> None:
        return None

    async def people_sharing_with(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return {user_id}

    async def hand_over_projects_of(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return set()

    async def projects_showing(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        return set()


async def rename(
    user: User, name: str, users: UserRepository, shared: SharedTasks, cache: ResponseCache
) -> None:
    """A new name, and fresh views wherever it shows: the person's own, the owners of tasks
    assigned to them, their tasks' assignees, and the admin views."""
    if name == user.name:
        return
    people = await shared.people_sharing_with(user.id)
    user.name = name
    cache.after_write(users.session, people, await shared.projects_showing(user.id))


class UserService:
    """What admins do to accounts."""

    def __init__(
        self,
        *,
        users: UserRepository,
        auth: AuthRepository,
        shared: SharedTasks,
        feed: AccountFeed,
        cache: ResponseCache,
        identity: IdentityStore,
        access_ttl_seconds: float,
    ) -> None:
        self.users = users
        self.auth = auth
        self.shared = shared
        self.feed = feed
        self.cache = cache
        self.identity = identity
        self.access_ttl_seconds = access_ttl_seconds

    async def list(self, query: UserListQuery) -> tuple[Sequence[User], int]:
        return await self.users.page(
            role=query.role, search=query.search, offset=query.offset, limit=query.limit
        )

    async def get(self, user_id: uuid.UUID) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def update(self, user_id: uuid.UUID, changes: UserUpdate) -> User:
        user = await self.get(user_id)
        stays_admin = changes.role in (None, Role.ADMIN) and changes.is_active is not False
        if user.is_admin and user.is_active and not stays_admin:
            await self._ensure_another_admin(user)
        if changes.name is not None:
            await rename(user, changes.name, self.users, self.shared, self.cache)
        if changes.role is not None:
            user.role = changes.role
        if changes.is_active is not None:
            if user.is_active and not changes.is_active:
                ended = await self.auth.revoke_user_sessions(user.id)
                ttl = self.access_ttl_seconds
                self.feed.sessions_revoked(ended, utc_now() + timedelta(seconds=ttl))
                after_commit(self.users.session, lambda: self.identity.revoke_sessions(ended, ttl))
            user.is_active = changes.is_active
        if changes.role is not None or changes.is_active is not None:
            user.mark_changed()
            # Every instance serves the new state from the next request on; a request that read
            # the old one a moment before can't put it back (its stamp is older).
            user_id, role, active, stamp = (
                user.id,
                user.role,
                user.is_active,
                stamp_of(user.updated_at),
            )
            after_commit(
                self.users.session,
                lambda: self.identity.account_changed(user_id, role, active, stamp),
            )
        await self.users.flush()
        self.feed.changed(user)
        return user

    async def delete(self, user_id: uuid.UUID) -> None:
        user = await self.get(user_id)
        if user.is_admin and user.is_active:
            await self._ensure_another_admin(user)
        await self.shared.lock_shared_with(user.id)
        people = await self.shared.people_sharing_with(user.id)
        projects = await self.shared.projects_showing(user.id)
        people |= await self.shared.hand_over_projects_of(user.id)
        await self.users.delete(user)
        self.feed.deleted(user_id)
        # Their tasks went with them: no view may show them any more, their assignees' neither.
        self.cache.after_write(self.users.session, people, projects, access=True)
        after_commit(self.users.session, lambda: self.identity.forget_accounts([user.id]))

    async def _ensure_another_admin(self, user: User) -> None:
        if not (await self.users.lock_active_admin_ids()) - {user.id}:
            raise LastAdmin()
