from __future__ import annotations

import uuid
from collections.abc import Sequence

from taskyard.auth.repository import AuthRepository
from taskyard.cache.service import ResponseCache
from taskyard.db import after_commit
from taskyard.errors import Conflict, NotFound
from taskyard.users.models import Role, User
from taskyard.users.repository import UserRepository
from taskyard.users.schemas import UserListQuery, UserUpdate


class UserNotFound(NotFound):
    message = "User not found"


class LastAdmin(Conflict):
    message = "The last active admin cannot be demoted, deactivated or deleted"


class UserService:
    """What admins do to accounts."""

    def __init__(
        self, *, users: UserRepository, auth: AuthRepository, cache: ResponseCache
    ) -> None:
        self.users = users
        self.auth = auth
        self.cache = cache

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
        if changes.name is not None and changes.name != user.name:
            await self.users.rename(user, changes.name)
            after_commit(self.users.session, self.cache.expire_admin_views)
        if changes.role is not None:
            user.role = changes.role
        if changes.is_active is not None:
            if user.is_active and not changes.is_active:
                await self.auth.revoke_user_sessions(user.id)
            user.is_active = changes.is_active
        await self.users.flush()
        return user

    async def delete(self, user_id: uuid.UUID) -> None:
        user = await self.get(user_id)
        if user.is_admin and user.is_active:
            await self._ensure_another_admin(user)
        await self.users.delete(user)
        # Their tasks went with them: the admin views must not show them any more.
        after_commit(self.users.session, self.cache.expire_admin_views)

    async def _ensure_another_admin(self, user: User) -> None:
        if not (await self.users.lock_active_admin_ids()) - {user.id}:
            raise LastAdmin()
