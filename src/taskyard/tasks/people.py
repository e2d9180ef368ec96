"""The split task service's copy of people, kept current by the auth service's `user.*` events,
and the views that show a person freshened when their copy changes; and the login sessions the
auth service ended (`sessions.revoked`), kept until their access tokens have expired.

It is a `users` table of the task service's own database with the same columns, so tasks
join it for `createdBy` and `assignee` as in the monolith, and deleting a person cascades to
their tasks as there. No password is ever copied: the column holds a value no hash matches.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.access_tokens import AccessClaims
from taskyard.cache.service import ResponseCache
from taskyard.db import Database, utc_now
from taskyard.identity import AccountState, stamp_of
from taskyard.identity.roles import Role
from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.projects.repository import ProjectRepository
from taskyard.tasks.repository import RevokedSessionRepository
from taskyard.tasks.shared import SharedWork
from taskyard.users.events import SESSIONS_REVOKED, USER_CHANGED, USER_DELETED
from taskyard.users.models import User
from taskyard.users.repository import UserRepository

UNUSABLE_HASH = "!"  # not a hash: nobody signs in against the read model

# How long the task service waits for a person its copy hasn't heard of (an assignee who signed
# up a moment ago): the event normally lands within milliseconds, later under heavy load.
PEOPLE_CATCH_UP_SECONDS = 3.0


class PeopleCopy:
    """Applies `user.*` events to the task service's database, in order, and retires the
    cached views that show the person: their own, those of everyone sharing a task with them,
    and the admin views."""

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache

    async def changed(self, session: AsyncSession, payload: Payload) -> None:
        users = UserRepository(session)
        user_id = uuid.UUID(payload["user_id"])
        changed_at = datetime.fromisoformat(payload["updated_at"].replace("Z", "+00:00"))
        user = await users.get(user_id)
        if user is None:
            user = User(id=user_id, password_hash=UNUSABLE_HASH)
            session.add(user)
        elif user.updated_at >= changed_at:
            return  # a newer change is already here: this one came late
        user.name = payload["name"]
        user.email = payload["email"]
        user.role = Role(payload["role"])
        user.is_active = bool(payload["active"])
        user.notifications = bool(payload["notifications"])
        user.updated_at = changed_at
        await users.flush()
        shared = SharedWork(session)
        self.cache.after_write(
            session,
            await shared.people_sharing_with(user_id),
            await shared.projects_showing(user_id),
        )

    async def deleted(self, session: AsyncSession, payload: Payload) -> None:
        users = UserRepository(session)
        user_id = uuid.UUID(payload["user_id"])
        user = await users.get(user_id)
        if user is None:
            return
        shared = SharedWork(session)
        await shared.lock_shared_with(user_id)
        people = await shared.people_sharing_with(user_id)
        projects = await shared.projects_showing(user_id)
        people |= await shared.hand_over_projects_of(user_id)
        await users.delete(user)  # their tasks go with them, as in the monolith
        self.cache.after_write(session, people, projects, access=True)


async def sessions_revoked(session: AsyncSession, payload: Payload) -> None:
    until = datetime.fromisoformat(payload["until"].replace("Z", "+00:00"))
    session_ids = [uuid.UUID(session_id) for session_id in payload["session_ids"]]
    await RevokedSessionRepository(session).add(session_ids, until)


async def purge_expired_revocations(database: Database) -> int:
    async with database.session(write=True) as session:
        purged = await RevokedSessionRepository(session).delete_expired(utc_now())
        await session.commit()
    return purged


def register(registry: EventRegistry, cache: ResponseCache) -> None:
    people = PeopleCopy(cache)
    registry.on_work(USER_CHANGED, people.changed)
    registry.on_work(USER_DELETED, people.deleted)
    registry.on_work(SESSIONS_REVOKED, sessions_revoked)
    registry.every_round("expired session revocations purge", purge_expired_revocations)


# Older than any real change, so the account's own `user.changed` event always wins.
FILLED_FROM_TOKEN_AT = datetime(1970, 1, 1, tzinfo=UTC)


class ReadModelAccounts:
    """The task service's `AccountStates`: its copy of people, filled from the token for
    someone who signed up a moment ago (before their `user.changed` arrived). Login sessions
    live in the auth service; their revocation reaches the task service at once through the
    shared identity store and denylist, and for good through `sessions.revoked` events: here a
    session is open unless one of those named it.

    It reads and fills in short sessions of its own, before the request's transaction starts:
    on SQLite that transaction may hold the write lock the fill would wait for."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def _role_and_active(
        self, claims: AccessClaims
    ) -> tuple[Role, bool, datetime, bool] | None:
        """Role, active flag and stamp from the copy, and whether the session is still open."""
        async with self.database.session(write=False) as session:
            found = await UserRepository(session).role_active_and_stamp(claims.user_id)
            if found is None:
                return None
            revoked = await RevokedSessionRepository(session).is_revoked(claims.session_id)
            return (*found, not revoked)

    async def account_state(self, claims: AccessClaims) -> AccountState | None:
        found = await self._role_and_active(claims)
        if found is None and claims.name is not None and claims.email is not None:
            async with self.database.session(write=True) as session:
                added = await UserRepository(session).add_if_absent(
                    User(
                        id=claims.user_id,
                        name=claims.name,
                        email=claims.email,
                        password_hash=UNUSABLE_HASH,
                        role=Role(claims.role),
                        is_active=True,
                        updated_at=FILLED_FROM_TOKEN_AT,
                    )
                )
                if added:  # an ORM add makes it with the row; this plain insert doesn't
                    await ProjectRepository(session).add_personal(claims.user_id)
                await session.commit()
            found = await self._role_and_active(claims)
        if found is None:
            return None
        role, active, changed_at, session_open = found
        return AccountState(role, active, session_open, stamp_of(changed_at))
