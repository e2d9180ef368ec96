"""The split deployment through its gateway, under load: a key rotation refuses no valid token,
a demotion bites within a second, and losing a task-service instance loses no acknowledged
write, nor sends one twice (nginx retries only what it never delivered)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from private_servers import wait_until, wait_until_async
from standardwebhooks import Webhook as Verifier

from tests.live.streams import open_stream
from tests.serving import PASSWORD, Server, bearer, create_admin, register, served_split
from tests.webhooks.receiver import Receiver, receiving

# The slow tier (whole processes, as deployed): `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


WRITERS = 4
WRITES_PER_WRITER = 60


@pytest.fixture(scope="module")
def split(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    # Keys that rotate in a second rather than half a minute, read again five times a second.
    fast_keys = {
        "TASKYARD_SIGNING_KEY_LEAD_SECONDS": "1",
        "TASKYARD_SIGNING_KEY_RELOAD_SECONDS": "0.2",
        # Streams check their caller every second: a logout ends them within one.
        "TASKYARD_LIVE_HEARTBEAT_SECONDS": "1",
        # The test's webhook receiver listens on loopback.
        "TASKYARD_WEBHOOK_ALLOW_PRIVATE": "true",
        "TASKYARD_WEBHOOK_POLL_SECONDS": "0.1",
    }
    yield from served_split(request, tmp_path_factory.mktemp("split-gateway"), fast_keys)


def test_a_key_rotation_under_traffic_refuses_no_valid_token(split: Server) -> None:
    person = register(split, "Rotating")
    # Signed before the rotation: the old key's; logins after it may be signed by either.
    kids = {jwt.get_unverified_header(person["token"])["kid"]}
    refused: list[int] = []
    with httpx.Client(base_url=split.api, timeout=10) as client:
        rotated = split.cli("rotate-keys")
        assert rotated.returncode == 0, rotated.stderr
        new_kid = rotated.stdout.split()[3].rstrip(":")
        deadline = time.monotonic() + 30
        while new_kid not in kids:
            assert time.monotonic() < deadline, "the new key never signed"
            login = client.post(
                "/auth/login", json={"email": person["user"]["email"], "password": PASSWORD}
            )
            token = login.json()["data"]["token"]
            kids.add(jwt.get_unverified_header(token)["kid"])
            answer = client.get("/tasks", headers={"Authorization": f"Bearer {token}"})
            if answer.status_code != 200:
                refused.append(answer.status_code)
        # The token from before the rotation still works at the task service.
        assert client.get("/tasks", headers=bearer(person)).status_code == 200
    assert refused == []
    assert len(kids) == 2


def test_a_demotion_bites_in_the_task_service_within_a_second(split: Server) -> None:
    admin = create_admin(split, name="Second Admin")
    with httpx.Client(base_url=split.api, timeout=10) as client:
        assert client.get("/tasks/admin/all", headers=bearer(admin)).status_code == 200
        demoted = client.patch(
            f"/users/{admin['user']['id']}", json={"role": "user"}, headers=bearer(split.admin)
        )
        assert demoted.status_code == 200
        started = time.monotonic()
        while client.get("/tasks/admin/all", headers=bearer(admin)).status_code != 403:
            assert time.monotonic() - started < 1.0, "the demotion took more than a second"
            time.sleep(0.01)
    print(
        f"demotion refused by the task service after {(time.monotonic() - started) * 1000:.0f} ms"
    )


def test_a_task_instance_killed_under_load_loses_no_acknowledged_write(split: Server) -> None:
    person = register(split, "Under Load")
    run = uuid.uuid4().hex[:8]
    acknowledged: list[str] = []
    refused: list[int] = []
    sent = threading.Event()
    lock = threading.Lock()

    def write(writer: int) -> None:
        with httpx.Client(base_url=split.api, headers=bearer(person), timeout=30) as client:
            for n in range(WRITES_PER_WRITER):
                if n == WRITES_PER_WRITER // 4:
                    sent.set()  # the load is on: time to kill an instance
                title = f"load {run} {writer}-{n}"
                try:
                    response = client.post("/tasks", json={"title": title})
                except httpx.TransportError:
                    with lock:
                        refused.append(0)
                    continue
                with lock:
                    if response.status_code == 201:
                        acknowledged.append(title)
                    else:
                        refused.append(response.status_code)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    assert sent.wait(timeout=60)
    victim_url, victim_pid = next(iter(split.cluster["services"]["tasks"].items()))
    os.kill(victim_pid, signal.SIGKILL)  # no draining: connections and requests cut mid-way
    for thread in writers:
        thread.join(timeout=120)

    print(
        f"killed {victim_url}: {len(acknowledged)} writes acknowledged, {len(refused)} refused "
        f"({sorted(set(refused))})"
    )
    assert len(acknowledged) + len(refused) == WRITERS * WRITES_PER_WRITER
    assert len(acknowledged) > WRITERS * WRITES_PER_WRITER // 2  # the other instance carried on
    assert all(status in {0, 502, 503, 504} for status in refused)  # never a 500

    stored: list[str] = []
    with httpx.Client(base_url=split.api, headers=bearer(person), timeout=30) as client:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, "search": f"load {run}"}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/tasks", params=params).json()
            stored += [task["title"] for task in page["data"]]
            cursor = page.get("nextCursor")
            if not cursor:
                break
    assert set(acknowledged) <= set(stored)  # every acknowledged write is durable
    assert len(stored) == len(set(stored))  # and none was written twice by a retry


async def test_the_event_stream_through_the_gateway(split: Server) -> None:
    """The task service streams what its members may see; a ticket opens it from a browser; a
    logout at the auth service ends it."""
    owner, member = register(split, "Owner"), register(split, "Member")
    async with httpx.AsyncClient(base_url=split.api, timeout=10) as client:
        project = await client.post("/projects", json={"name": "Split"}, headers=bearer(owner))
        project_id = project.json()["data"]["id"]
        ticket = await client.post("/events/tickets", headers=bearer(member))
        assert ticket.status_code == 201, ticket.text
        async with open_stream(
            split.base_url, params={"ticket": ticket.json()["data"]["ticket"]}
        ) as stream:
            assert stream.response.status_code == 200, stream.response.text
            added = await client.post(
                f"/projects/{project_id}/members",
                json={"email": member["user"]["email"], "role": "viewer"},
                headers=bearer(owner),
            )
            assert added.status_code == 201, added.text
            await stream.event_of("project.member_added")
            task = await client.post(
                "/tasks", json={"title": "Split", "projectId": project_id}, headers=bearer(owner)
            )
            assert (await stream.event_of("task.created")).json["taskId"] == task.json()["data"][
                "id"
            ]
            logged_out = await client.post("/auth/logout", headers=bearer(member))
            assert logged_out.status_code == 200
            assert await stream.ends(within=5)


def test_a_personal_api_token_from_the_auth_service_works_at_the_task_service(
    split: Server,
) -> None:
    """Issued by the auth service, resolved by the task service from its own copy (no call per
    request), within its scopes; revoked, refused there at once."""
    person = register(split, "Scripted")
    with httpx.Client(base_url=split.api, timeout=10) as client:
        made = client.post(
            "/auth/tokens", json={"name": "ci", "scopes": ["tasks:read"]}, headers=bearer(person)
        )
        assert made.status_code == 201, made.text
        token = made.json()["data"]
        as_token = {"Authorization": f"Bearer {token['token']}"}
        # The task service knows it once the auth service's event has reached it.
        wait_until(
            lambda: client.get("/tasks", headers=as_token).status_code == 200 or None,
            within=15,
            what="the token accepted by the task service",
        )
        refused = client.post("/tasks", json={"title": "No"}, headers=as_token)
        assert refused.status_code == 403  # no tasks:write
        revoked = client.delete(f"/auth/tokens/{token['id']}", headers=bearer(person))
        assert revoked.status_code == 200
        started = time.monotonic()
        assert client.get("/tasks", headers=as_token).status_code == 401
        assert time.monotonic() - started < 1.0


async def test_webhooks_are_sent_by_the_task_services_worker(split: Server) -> None:
    owner = register(split, "Hooked")
    async with (
        receiving(Receiver()) as receiver,
        httpx.AsyncClient(base_url=split.api, timeout=10) as client,
    ):
        project = await client.post("/projects", json={"name": "Split"}, headers=bearer(owner))
        project_id = project.json()["data"]["id"]
        made = await client.post(
            f"/projects/{project_id}/webhooks",
            json={"url": receiver.url, "events": ["task.created"]},
            headers=bearer(owner),
        )
        assert made.status_code == 201, made.text
        created = await client.post(
            "/tasks", json={"title": "Sent", "projectId": project_id}, headers=bearer(owner)
        )

        async def arrived() -> bool:
            return len(receiver.received) >= 1

        await wait_until_async(arrived, within=20, what="the delivery")
        sent = receiver.received[0]
        event = Verifier(made.json()["data"]["secret"]).verify(sent.body, sent.headers)
        assert event["taskId"] == created.json()["data"]["id"]
