"""Rate limits in one process (the embedded default): keys, limits, headers and exemptions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from taskyard.edge.rate_limit import sliding_window_decision
from tests.helpers import PASSWORD, bearer, client_from, register, register_admin, running_app
from tests.support import make_settings


def limited(sqlite_url: str, **overrides: Any) -> Any:
    limits = {
        "rate_limit": "5/hour",
        "rate_limit_admin": "8/hour",
        "rate_limit_login": "3/hour",
        "rate_limit_login_ip": "6/hour",
        "rate_limit_register": "100/hour",
        "rate_limit_refresh": "3/hour",
    }
    return make_settings(sqlite_url, **{**limits, **overrides})


async def statuses(client: httpx.AsyncClient, count: int, **request: Any) -> list[int]:
    return [(await client.request(**request)).status_code for _ in range(count)]


async def test_user_limit_counts_exactly_then_refuses(sqlite_url: str) -> None:
    # Register through a different address: the auth limit must not interfere.
    async with running_app(
        limited(sqlite_url, rate_limit_login="100/hour", rate_limit_login_ip="100/hour")
    ) as (_, client):
        auth = await register(client)
        responses = [await client.get("/api/v1/tasks", headers=bearer(auth)) for _ in range(7)]
    assert [r.status_code for r in responses] == [200] * 5 + [429] * 2
    assert [r.headers["ratelimit-remaining"] for r in responses[:5]] == ["4", "3", "2", "1", "0"]
    assert all(r.headers["ratelimit-limit"] == "5" for r in responses)
    refused = responses[-1]
    body = refused.json()
    assert body["success"] is False
    assert body["message"] == "Too many requests, please try again later"
    assert body["requestId"]
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert 0 < int(refused.headers["ratelimit-reset"]) <= 3600


async def test_each_user_has_their_own_bucket(sqlite_url: str) -> None:
    async with running_app(
        limited(sqlite_url, rate_limit_login="100/hour", rate_limit_login_ip="100/hour")
    ) as (_, client):
        alice, bob = await register(client), await register(client)
        assert await statuses(
            client, 6, method="GET", url="/api/v1/tasks", headers=bearer(alice)
        ) == [200] * 5 + [429]
        assert (await client.get("/api/v1/tasks", headers=bearer(bob))).status_code == 200


async def test_admins_get_the_admin_limit(sqlite_url: str) -> None:
    async with running_app(
        limited(sqlite_url, rate_limit_login="100/hour", rate_limit_login_ip="100/hour")
    ) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        # The token issued at registration still says "user"; log in again for an admin token.
        login = await client.post(
            "/api/v1/auth/login", json={"email": admin["user"]["email"], "password": PASSWORD}
        )
        admin_auth = login.json()["data"]
        results = await statuses(
            client, 10, method="GET", url="/api/v1/users", headers=bearer(admin_auth)
        )
    assert results == [200] * 8 + [429] * 2


async def test_login_is_throttled_per_address_and_email_under_a_ceiling(sqlite_url: str) -> None:
    async with running_app(limited(sqlite_url)) as (app, client):
        guess = {"email": "victim@example.com", "password": "guess-guess"}
        attempts = await statuses(client, 5, method="POST", url="/api/v1/auth/login", json=guess)
        assert attempts == [401, 401, 401, 429, 429]
        # Colleagues behind the same address still sign in to their own accounts ...
        colleague = {"email": "colleague@example.com", "password": "guess-guess"}
        assert (await client.post("/api/v1/auth/login", json=colleague)).status_code == 401
        # ... until the address's ceiling (6 here) is spent, whatever the email.
        third = {"email": "third@example.com", "password": "guess-guess"}
        assert (await client.post("/api/v1/auth/login", json=third)).status_code == 429
        async with client_from(app, "198.51.100.9") as elsewhere:
            other = await elsewhere.post("/api/v1/auth/login", json=guess)
        assert other.status_code == 401


async def test_refreshes_are_counted_per_session_not_per_address(sqlite_url: str) -> None:
    async with running_app(limited(sqlite_url)) as (_, client):
        first, second = await register(client), await register(client)
        token = first["refreshToken"]
        results = []
        for _ in range(4):
            response = await client.post("/api/v1/auth/refresh", json={"refreshToken": token})
            results.append(response.status_code)
            if response.status_code == 200:
                token = response.json()["data"]["refreshToken"]
        assert results == [200, 200, 200, 429]
        # Another session from the same address has its own budget.
        other = await client.post(
            "/api/v1/auth/refresh", json={"refreshToken": second["refreshToken"]}
        )
        assert other.status_code == 200


async def test_anonymous_callers_are_limited_by_address(sqlite_url: str) -> None:
    async with running_app(limited(sqlite_url)) as (app, client):
        garbage = {"Authorization": "Bearer not-a-token"}
        assert await statuses(client, 6, method="GET", url="/api/v1/tasks", headers=garbage) == [
            401
        ] * 5 + [429]
        async with client_from(app, "198.51.100.10") as elsewhere:
            assert (await elsewhere.get("/api/v1/tasks")).status_code == 401


async def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(sqlite_url: str) -> None:
    async with running_app(limited(sqlite_url)) as (_, client):
        results = [
            (await client.get("/", headers={"X-Forwarded-For": f"10.0.0.{n}"})).status_code
            for n in range(7)
        ]
    assert results == [200] * 5 + [429] * 2


async def test_a_trusted_proxy_is_believed_and_forged_entries_are_not(sqlite_url: str) -> None:
    settings = limited(sqlite_url, trusted_proxies=["203.0.113.0/24"])
    async with running_app(settings) as (_, proxy):
        # Two clients behind the proxy: separate buckets.
        first = await statuses(
            proxy, 6, method="GET", url="/", headers={"X-Forwarded-For": "192.0.2.1"}
        )
        second = await statuses(
            proxy, 1, method="GET", url="/", headers={"X-Forwarded-For": "192.0.2.2"}
        )
        assert first == [200] * 5 + [429]
        assert second == [200]
        # A client-supplied entry to the left of what the proxy saw changes nothing.
        forged = await proxy.get("/", headers={"X-Forwarded-For": "6.6.6.6, 192.0.2.1"})
        assert forged.status_code == 429


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/ready", "/metrics"])
async def test_health_and_metrics_are_exempt(sqlite_url: str, path: str) -> None:
    async with running_app(limited(sqlite_url, rate_limit="2/hour")) as (_, client):
        results = await statuses(client, 5, method="GET", url=path)
        assert results == [200] * 5
        response = await client.get(path)
        assert "ratelimit-limit" not in response.headers


async def test_limiter_can_be_switched_off(sqlite_url: str) -> None:
    settings = limited(sqlite_url, rate_limit="2/hour", rate_limit_enabled=False)
    async with running_app(settings) as (_, client):
        assert await statuses(client, 5, method="GET", url="/") == [200] * 5


@pytest.mark.parametrize(
    ("current", "previous", "elapsed", "wait"),
    [
        # The last window was full: 10 % of it must fade (10 s of 100) before one more fits.
        (0, 10, 0.0, 10),
        (0, 10, 4.0, 6),
        # Half this window's budget spent, the last one full: its hits must fade to 4.
        (5, 10, 50.0, 10),
        # This window is full: into the next one, until its 10 hits have faded to 9.
        (10, 0, 30.0, 80),
        (10, 10, 99.5, 11),
    ],
)
def test_retry_after_is_exactly_when_one_more_request_fits(
    current: int, previous: int, elapsed: float, wait: int
) -> None:
    limit, period = 10, 100
    refused = sliding_window_decision(False, limit, period, elapsed, current, previous)
    assert refused.remaining == 0
    assert refused.reset_after == wait

    # At that moment the weighted count leaves room for exactly one more; a second earlier not.
    def count_at(seconds: float) -> float:
        moment = elapsed + seconds
        if moment < period:
            return previous * (period - moment) / period + current
        return current * (2 * period - moment) / period

    assert count_at(wait) + 1 <= limit + 1e-9
    assert count_at(wait - 1) + 1 > limit


def test_an_allowed_request_reports_what_is_left_and_when_all_of_it_is_back() -> None:
    allowed = sliding_window_decision(True, 100, 900, 300.0, 41, 30)
    assert allowed.allowed
    assert allowed.remaining == 100 - 41 - 20  # 30 hits of the last window, two thirds left
    assert allowed.reset_after == 600 + 900  # this window's hits count until the next one ends
