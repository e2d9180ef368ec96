from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from taskyard.auth.challenge import ChallengeGate
from taskyard.auth.passwords import PasswordService
from taskyard.auth.repository import AuthRepository
from taskyard.auth.schemas import LoginInput, MeUpdate, RegisterInput
from taskyard.auth.tokens import TokenService, hash_refresh_token
from taskyard.cache.service import ResponseCache
from taskyard.db import after_commit, utc_now
from taskyard.edge.rate_limit import LimitName, RateLimitService
from taskyard.errors import Unauthorized
from taskyard.identity import (
    AccountDeactivated,
    IdentityStore,
    Principal,
    TokenDenylist,
)
from taskyard.identity.roles import Role
from taskyard.jobs.service import EventPublisher
from taskyard.users.events import USER_REGISTERED
from taskyard.users.feed import AccountFeed
from taskyard.users.models import User
from taskyard.users.repository import UserRepository
from taskyard.users.service import SharedTasks, rename


class InvalidCredentials(Unauthorized):
    message = "Invalid credentials"


class InvalidRefreshToken(Unauthorized):
    message = "Invalid or expired refresh token"


class RefreshTokenReused(Unauthorized):
    message = "Refresh token was already used; the session has been revoked"
    # The revocation must outlive the failed request.
    persist_changes = True


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    user: User
    token: str
    refresh_token: str


class AuthService:
    def __init__(
        self,
        *,
        users: UserRepository,
        auth: AuthRepository,
        shared: SharedTasks,
        feed: AccountFeed,
        passwords: PasswordService,
        tokens: TokenService,
        denylist: TokenDenylist,
        events: EventPublisher,
        cache: ResponseCache,
        identity: IdentityStore,
        limits: RateLimitService | None = None,
        reuse_grace: timedelta = timedelta(0),
        challenge: ChallengeGate | None = None,
    ) -> None:
        self.challenge = challenge
        self.users = users
        self.reuse_grace = reuse_grace
        self.auth = auth
        self.shared = shared
        self.feed = feed
        self.passwords = passwords
        self.tokens = tokens
        self.denylist = denylist
        self.events = events
        self.cache = cache
        self.identity = identity
        self.limits = limits

    async def _spend(self, budget: LimitName, key: str) -> None:
        if self.limits is not None:
            await self.limits.enforce(budget, key)

    async def _pass_challenge(self, email: str, client_ip: str, solution: str | None) -> None:
        if self.challenge is not None:
            await self.challenge.require(email=email, address=client_ip, solution=solution)

    async def register(
        self, data: RegisterInput, *, client_ip: str, solution: str | None = None
    ) -> IssuedTokens:
        await self.tokens.prepare()
        await self._spend("register", client_ip)
        await self._pass_challenge(data.email, client_ip, solution)
        user = await self.create_account(
            data.name, data.email, data.password, Role.USER, signed_in=True
        )
        self.events.emit(USER_REGISTERED, {"user_id": str(user.id)})
        return await self._open_session(user)

    async def create_account(
        self, name: str, email: str, password: str, role: Role, *, signed_in: bool = False
    ) -> User:
        """A new active account (EmailTaken if the email is), told to whoever keeps a copy of
        people: sign-up's, and the CLI's for an admin."""
        user = User(
            name=name,
            email=email,
            password_hash=await self.passwords.hash(password),
            role=role,
            is_active=True,
            last_login=utc_now() if signed_in else None,
        )
        await self.users.add(user)
        self.feed.changed(user)
        return user

    async def login(
        self, data: LoginInput, *, client_ip: str, solution: str | None = None
    ) -> IssuedTokens:
        # A ceiling per address against credential stuffing, and a tighter budget per address
        # and account against guessing one password; both before any password is hashed.
        await self.tokens.prepare()
        await self._spend("login_ip", client_ip)
        await self._spend("login", f"{client_ip}|{data.email}")
        await self._pass_challenge(data.email, client_ip, solution)
        user = await self.users.get_by_email(data.email)
        if user is None:
            await self.passwords.burn_time(data.password)
        if user is None or not await self.passwords.verify(user.password_hash, data.password):
            if self.challenge is not None:
                await self.challenge.failed(email=data.email, address=client_ip)
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountDeactivated()
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = await self.passwords.hash(data.password)
        user.last_login = utc_now()
        return await self._open_session(user)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        await self.tokens.prepare()
        found = await self.auth.find_refresh_token(hash_refresh_token(refresh_token))
        if found is None:
            raise InvalidRefreshToken()
        stored, login, user = found
        if login.revoked_at is not None or not user.is_active:
            raise InvalidRefreshToken()
        await self._spend("refresh", str(login.id))
        spent_at = stored.used_at
        if spent_at is None and not await self.auth.spend_refresh_token(stored.id):
            spent_at = utc_now()  # a concurrent request spent it just now
        if spent_at is not None and not self._reuse_tolerated(spent_at):
            # A spent token came back long after: someone holds a copy. End the whole login.
            await self._end_sessions([login.id])
            raise RefreshTokenReused()
        if stored.expires_at <= utc_now():
            raise InvalidRefreshToken()
        await self.auth.touch_session(login.id)
        return await self._issue(user, login.id)

    def _reuse_tolerated(self, spent_at: datetime) -> bool:
        """A spent token back within the grace is a retry (a lost response, a second tab).

        A grace of zero tolerates no reuse at all, however close the two requests came.
        """
        return self.reuse_grace > timedelta(0) and utc_now() - spent_at < self.reuse_grace

    async def update_me(self, user: User, changes: MeUpdate) -> User:
        if changes.name is not None:
            await rename(user, changes.name, self.users, self.shared, self.cache)
        if changes.notifications is not None:
            user.notifications = changes.notifications
        await self.users.flush()
        self.feed.changed(user)
        return user

    async def logout(self, principal: Principal) -> None:
        await self._end_sessions([principal.session_id])
        await self.denylist.add(principal.jti, principal.expires_at.timestamp())

    async def _end_sessions(self, session_ids: list[uuid.UUID]) -> None:
        for session_id in session_ids:
            await self.auth.revoke_session(session_id)
        ttl = self.tokens.access_ttl_seconds  # a revoked session outlives its access tokens
        self.feed.sessions_revoked(session_ids, utc_now() + timedelta(seconds=ttl))
        after_commit(self.users.session, lambda: self.identity.revoke_sessions(session_ids, ttl))

    async def _open_session(self, user: User) -> IssuedTokens:
        login = await self.auth.open_session(user.id)
        return await self._issue(user, login.id)

    async def _issue(self, user: User, session_id: uuid.UUID) -> IssuedTokens:
        refresh = self.tokens.new_refresh()
        await self.auth.add_refresh_token(session_id, refresh)
        return IssuedTokens(
            user=user,
            token=await self.tokens.issue_access(user, session_id),
            refresh_token=refresh.value,
        )
