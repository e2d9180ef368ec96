"""The process's services: built once, typed and frozen, on `app.state.services` alone; which
service the process is decides what it holds, and nothing else decides it."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.access_tokens import HmacVerifier, KeySetVerifier
from taskyard.api_tokens.verifier import CopiedTokenLookup, PersonalTokenVerifier, StoredTokens
from taskyard.app import create_app
from taskyard.jobs.service import EventPublisher
from taskyard.services import ServiceMissing
from taskyard.users.feed import EventFeed, SilentFeed
from tests.support import make_settings


async def test_the_app_state_holds_the_services_and_nothing_else(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    services = app.state.services
    try:
        assert set(app.state._state) == {"services"}
        with pytest.raises(dataclasses.FrozenInstanceError):
            services.database = None
    finally:
        await services.aclose()


@pytest.mark.parametrize("service", ["all", "auth", "tasks"])
async def test_each_service_holds_what_it_serves(
    service: str, sqlite_url: str, redis_url: str, broker_url: str
) -> None:
    split = {"redis_url": redis_url, "broker_url": broker_url} if service != "all" else {}
    jwks = {"auth_jwks_url": "http://auth.invalid/.well-known/jwks.json"}
    settings = make_settings(
        sqlite_url, service=service, **split, **(jwks if service == "tasks" else {})
    )
    services = create_app(settings).state.services
    try:
        assert services.service == service
        assert services.serves_tasks is (service != "auth")
        if service == "tasks":
            with pytest.raises(ServiceMissing):
                services.require_accounts()
            # Logins by the auth service's keys; personal API tokens from its copy of them.
            assert isinstance(services.verifier, PersonalTokenVerifier)
            assert isinstance(services.verifier.inner, KeySetVerifier)
            assert isinstance(services.verifier.lookup, CopiedTokenLookup)
        else:
            accounts = services.require_accounts()
            assert (accounts.keyring is not None) is (service == "auth")
            # It holds the tokens table: personal API tokens beside its logins.
            assert isinstance(services.verifier, PersonalTokenVerifier)
            assert isinstance(services.verifier.lookup, StoredTokens)
            inner = KeySetVerifier if service == "auth" else HmacVerifier
            assert isinstance(services.verifier.inner, inner)
        # Only the auth service tells another of account changes.
        feed = services.account_feed(EventPublisher(AsyncSession()))
        assert isinstance(feed, EventFeed if service == "auth" else SilentFeed)
    finally:
        await services.aclose()
