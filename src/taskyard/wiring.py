"""Which domains a process serves: their routes, event handlers and periodic jobs, and the
signing, verifying and account lookups of its service. The one place that knows every domain:
the app factory and the job plumbing know none."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from taskyard.access_tokens import FetchKeySet, HmacVerifier, KeySetVerifier
from taskyard.cache.backend import RedisCache
from taskyard.cache.service import ResponseCache
from taskyard.config import Settings
from taskyard.exports import jobs as export_jobs
from taskyard.idempotency.service import purge_expired as purge_expired_keys
from taskyard.identity import RedisIdentityStore
from taskyard.jobs.registry import EventRegistry
from taskyard.redis_client import BackendGuard, KeySpace, create_redis
from taskyard.tasks import notifications as task_notifications
from taskyard.tasks import people
from taskyard.users import notifications as user_notifications


def event_registry(settings: Settings) -> EventRegistry:
    """The monolith carries out everything; split, the auth service sends the welcome mail and
    the task service keeps its copy of people and does the rest."""
    registry = EventRegistry()
    registry.every_round("expired idempotency-key purge", purge_expired_keys)
    if settings.service in ("all", "auth"):
        user_notifications.register(registry)
    if settings.service in ("all", "tasks"):
        task_notifications.register(registry)
        export_jobs.register(registry, public_url=settings.public_url)
    if settings.service == "tasks":
        people.register(registry, _shared_cache(settings))
    return registry


def _shared_cache(settings: Settings) -> ResponseCache:
    """The task service's response cache as a worker sees it: in Redis, which split mode
    requires, so retiring a view here retires it on every instance."""
    redis = create_redis(settings)
    assert redis is not None  # required by the settings in split mode
    guard = BackendGuard("redis")
    keys = KeySpace(settings.redis_key_prefix, redis.lifetime)
    return ResponseCache(
        RedisCache(redis, guard),
        RedisIdentityStore(redis, keys, guard),
        ttl=settings.cache_ttl,
        keys=keys,
        enabled=settings.cache_enabled,
    )


def _key_set_over_http(url: str) -> FetchKeySet:
    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    return fetch


def install_service(app: FastAPI, settings: Settings) -> list[APIRouter]:
    """Sets who signs and verifies tokens, where accounts are read and what account changes
    need of tasks, for the service this process is; returns the routers it answers. Domain
    modules are imported here, per service, so the task service never loads the auth
    service's password hashing or session code."""
    from taskyard.ops.router import router as ops_router

    routers: list[APIRouter] = [ops_router]  # every service's panel reads the whole cluster
    app.state.keyring = None
    app.state.etag_taggers = []
    app.state.verifier = HmacVerifier(settings.signing_key)
    if settings.service in ("all", "auth"):
        from taskyard.auth.challenge import challenge_gate
        from taskyard.auth.keys import KeyRing
        from taskyard.auth.passwords import PasswordService
        from taskyard.auth.repository import AuthRepository
        from taskyard.auth.router import keys_router
        from taskyard.auth.router import router as auth_router
        from taskyard.auth.tokens import TokenService
        from taskyard.users.router import router as users_router

        app.state.passwords = PasswordService(settings)
        app.state.challenge_gate = challenge_gate(settings, app.state.redis)
        if settings.jwt_signing == "ed25519":
            app.state.keyring = KeyRing(
                app.state.database,
                settings.signing_key,
                reload_seconds=settings.signing_key_reload_seconds,
            )
            app.state.verifier = KeySetVerifier(app.state.keyring.reloaded_jwks)
            app.include_router(keys_router)
        app.state.tokens = TokenService(settings, signer=app.state.keyring)
        app.state.account_states = AuthRepository
        routers += [auth_router, users_router]
    if settings.service in ("all", "tasks"):
        from taskyard.exports.router import router as exports_router
        from taskyard.tasks.repository import TaskRepository
        from taskyard.tasks.router import router as tasks_router
        from taskyard.tasks.schemas import task_etag_of

        app.state.shared_tasks = TaskRepository
        app.state.etag_taggers = [task_etag_of]
        routers += [tasks_router, exports_router]
    else:
        # Tasks live in the task service, which freshens its views from `user.*` events.
        from taskyard.users.service import NoSharedTasks

        app.state.shared_tasks = NoSharedTasks
    if settings.service == "tasks":
        from taskyard.tasks.people import ReadModelAccounts

        assert settings.auth_jwks_url is not None  # required by the settings
        app.state.verifier = KeySetVerifier(_key_set_over_http(settings.auth_jwks_url))
        accounts = ReadModelAccounts(app.state.database)
        app.state.account_states = lambda _session: accounts
    return routers
