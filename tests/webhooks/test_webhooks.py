"""Webhooks end to end: registered by a project's admins, sent by the sender to a real HTTP
receiver, signed per Standard Webhooks, in order, retried, timed out, given up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from private_servers import wait_until_async
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier

from taskyard.config import Settings
from taskyard.jobs.models import OutboxEvent
from taskyard.live.events import LIVE_EVENT, LIVE_OUTBOUND
from tests.helpers import bearer, new_task, register, running_app, serving_app
from tests.support import TEST_SECRET_KEY, SmtpServer, make_settings
from tests.webhooks.receiver import HANG, Receiver, receiving

TIMEOUT = 1.0
TASKYARD = str(Path(sys.executable).with_name("taskyard"))


def webhook_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "webhook_allow_private": True,  # the receiver is on loopback
        "webhook_timeout_seconds": TIMEOUT,
        "webhook_retry_base_seconds": 0.2,
        "webhook_poll_seconds": 0.05,
        "outbox_poll_seconds": 0.1,
        **overrides,
    }
    return make_settings(database_url, **values)


@asynccontextmanager
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serving_app(settings) as (_app, base_url),
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        yield client


async def project_of(client: httpx.AsyncClient, owner: dict[str, Any]) -> str:
    made = await client.post("/api/v1/projects", json={"name": "Hooks"}, headers=bearer(owner))
    assert made.status_code == 201, made.text
    project_id: str = made.json()["data"]["id"]
    return project_id


async def hook(
    client: httpx.AsyncClient,
    owner: dict[str, Any],
    project_id: str,
    url: str,
    events: list[str] | None = None,
) -> dict[str, Any]:
    made = await client.post(
        f"/api/v1/projects/{project_id}/webhooks",
        json={"url": url, "events": events or ["task.created", "task.updated"]},
        headers=bearer(owner),
    )
    assert made.status_code == 201, made.text
    data: dict[str, Any] = made.json()["data"]
    return data


async def received(receiver: Receiver, count: int, within: float = 15) -> None:
    async def enough() -> bool:
        return len(receiver.received) >= count

    await wait_until_async(enough, within=within, what=f"{count} deliveries")


async def attempts_of(
    client: httpx.AsyncClient, owner: dict[str, Any], project_id: str, webhook_id: str
) -> list[dict[str, Any]]:
    listed = await client.get(
        f"/api/v1/projects/{project_id}/webhooks/{webhook_id}/deliveries",
        params={"limit": 100},
        headers=bearer(owner),
    )
    assert listed.status_code == 200, listed.text
    rows: list[dict[str, Any]] = listed.json()["data"]
    return rows


async def test_admins_manage_webhooks_and_see_the_secret_once(database_url: str) -> None:
    async with receiving(Receiver()) as receiver, api(webhook_settings(database_url)) as client:
        owner, member = [await register(client, name) for name in ("Olu", "Mei")]
        project_id = await project_of(client, owner)
        await client.post(
            f"/api/v1/projects/{project_id}/members",
            json={"email": member["user"]["email"], "role": "editor"},
            headers=bearer(owner),
        )
        created = await hook(client, owner, project_id, receiver.url)
        assert created["secret"].startswith("whsec_")
        assert created["events"] == ["task.created", "task.updated"]
        assert created["active"] is True
        path = f"/api/v1/projects/{project_id}/webhooks"
        listed = await client.get(path, headers=bearer(owner))
        assert [w["id"] for w in listed.json()["data"]] == [created["id"]]
        assert "secret" not in listed.json()["data"][0]
        one = await client.get(f"{path}/{created['id']}", headers=bearer(owner))
        assert one.status_code == 200
        assert "secret" not in one.json()["data"]

        # An editor is not an admin: the webhooks are not theirs to see.
        assert (await client.get(path, headers=bearer(member))).status_code == 403
        changed = await client.patch(
            f"{path}/{created['id']}",
            json={"events": ["comment.created"], "active": False},
            headers=bearer(owner),
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["data"]["events"] == ["comment.created"]
        assert changed.json()["data"]["active"] is False

        for body, field in (
            ({"url": "ftp://example.com/x", "events": ["task.created"]}, "url"),
            ({"url": receiver.url, "events": []}, "events"),
            ({"url": receiver.url, "events": ["task.exploded"]}, "events"),
            ({"url": receiver.url, "events": ["task.created"], "secret": "mine"}, "secret"),
        ):
            refused = await client.post(path, json=body, headers=bearer(owner))
            assert refused.status_code == 400, (body, refused.text)
            assert refused.json()["errors"][0]["field"].startswith(field), refused.json()
        personal = await client.post(
            f"/api/v1/projects/{owner['user']['id']}/webhooks",
            json={"url": receiver.url, "events": ["task.created"]},
            headers=bearer(owner),
        )
        assert personal.status_code == 409
        deleted = await client.delete(f"{path}/{created['id']}", headers=bearer(owner))
        assert deleted.status_code == 200
        assert (
            await client.get(f"{path}/{created['id']}", headers=bearer(owner))
        ).status_code == 404


async def test_private_addresses_are_refused_unless_allowed(database_url: str) -> None:
    async with api(webhook_settings(database_url, webhook_allow_private=False)) as client:
        owner = await register(client, "Olu")
        project_id = await project_of(client, owner)
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://224.0.0.1/hook",
        ):
            refused = await client.post(
                f"/api/v1/projects/{project_id}/webhooks",
                json={"url": url, "events": ["task.created"]},
                headers=bearer(owner),
            )
            assert refused.status_code == 400, url
            assert refused.json()["errors"][0]["field"] == "url"


async def test_deliveries_are_signed_and_sent_in_order(database_url: str) -> None:
    async with receiving(Receiver()) as receiver, api(webhook_settings(database_url)) as client:
        owner = await register(client, "Olu")
        project_id = await project_of(client, owner)
        created = await hook(client, owner, project_id, receiver.url)
        titles = [f"Task {n}" for n in range(4)]
        tasks = [await new_task(client, owner, title, project_id) for title in titles]
        renamed = await client.patch(
            f"/api/v1/tasks/{tasks[0]['id']}", json={"title": "Renamed"}, headers=bearer(owner)
        )
        assert renamed.status_code == 200
        await received(receiver, 5)
        verifier = Verifier(created["secret"])
        events = [verifier.verify(r.body, r.headers) for r in receiver.received]
        assert [e["type"] for e in events] == ["task.created"] * 4 + ["task.updated"]
        assert [e["data"]["title"] for e in events] == [*titles, "Renamed"]
        assert events[0]["data"] == tasks[0]  # the task as the API returned it
        assert events[0]["projectId"] == project_id
        assert events[0]["actorId"] == owner["user"]["id"]
        assert len(set(receiver.ids())) == 5
        # A tampered body fails verification.
        with pytest.raises(Exception, match="signature"):
            verifier.verify(receiver.received[0].body + b" ", receiver.received[0].headers)

        pinged = await client.post(
            f"/api/v1/projects/{project_id}/webhooks/{created['id']}/test", headers=bearer(owner)
        )
        assert pinged.status_code == 202
        await received(receiver, 6)
        ping = verifier.verify(receiver.received[5].body, receiver.received[5].headers)
        assert ping["type"] == "ping"
        assert receiver.received[5].headers["webhook-id"] == pinged.json()["data"]["messageId"]


async def test_a_receiver_failing_three_times_gets_it_once_and_every_try_is_listed(
    database_url: str,
) -> None:
    receiver = Receiver(script=[500, 503, 302], otherwise=200)
    async with receiving(receiver), api(webhook_settings(database_url)) as client:
        owner = await register(client, "Olu")
        project_id = await project_of(client, owner)
        created = await hook(client, owner, project_id, receiver.url, ["task.created"])
        await new_task(client, owner, "Persist", project_id)
        await received(receiver, 4)
        assert len(set(receiver.ids())) == 1  # one delivery, four tries, the same webhook-id

        async def listed() -> list[dict[str, Any]] | None:
            rows = await attempts_of(client, owner, project_id, created["id"])
            return rows if len(rows) == 4 and rows[0]["statusCode"] == 200 else None

        rows = await wait_until_async(listed, within=10, what="the fourth try listed")
        oldest_first = list(reversed(rows))
        assert [row["statusCode"] for row in oldest_first] == [500, 503, 302, 200]
        assert [row["error"] for row in oldest_first] == [
            "Answered 500",
            "Answered 503",
            "Redirects are not followed",
            None,
        ]
        assert {row["deliveryStatus"] for row in rows} == {"delivered"}
        assert all(row["durationMs"] >= 0 and row["event"] == "task.created" for row in rows)
        # Nothing more comes: it went through once.
        assert len(receiver.received) == 4


async def test_a_receiver_that_hangs_is_timed_out_and_tried_again(database_url: str) -> None:
    receiver = Receiver(script=[HANG], otherwise=200)
    async with receiving(receiver), api(webhook_settings(database_url)) as client:
        owner = await register(client, "Olu")
        project_id = await project_of(client, owner)
        created = await hook(client, owner, project_id, receiver.url, ["task.created"])
        await new_task(client, owner, "Slow", project_id)
        await received(receiver, 2)

        async def listed() -> list[dict[str, Any]] | None:
            rows = await attempts_of(client, owner, project_id, created["id"])
            return rows if len(rows) == 2 else None

        first, second = reversed(await wait_until_async(listed, within=10, what="two tries"))
        assert first["statusCode"] is None
        assert first["error"] == f"Timed out after {TIMEOUT:g} s"
        assert TIMEOUT * 1000 <= first["durationMs"] < TIMEOUT * 1000 + 1000
        assert second["statusCode"] == 200


async def test_a_webhook_failing_for_the_whole_window_is_given_up_and_admins_are_mailed(
    database_url: str, smtp_server: SmtpServer
) -> None:
    receiver = Receiver(otherwise=500)
    settings = webhook_settings(database_url, webhook_give_up_seconds=1.5, smtp_url=smtp_server.url)
    async with receiving(receiver), api(settings) as client:
        owner = await register(client, "Olu")
        project_id = await project_of(client, owner)
        created = await hook(client, owner, project_id, receiver.url, ["task.created"])
        await new_task(client, owner, "Doomed", project_id)
        path = f"/api/v1/projects/{project_id}/webhooks/{created['id']}"

        async def switched_off() -> dict[str, Any] | None:
            found = (await client.get(path, headers=bearer(owner))).json()["data"]
            return found if not found["active"] else None

        webhook = await wait_until_async(switched_off, within=20, what="the webhook switched off")
        assert webhook["disabledReason"] == "Every delivery failed for 1.5 s"
        assert webhook["failingSince"] is not None
        rows = await attempts_of(client, owner, project_id, created["id"])
        assert rows[0]["deliveryStatus"] == "failed"  # given up, and listed

        def notices() -> list[Any]:
            mails = smtp_server.to(owner["user"]["email"])
            return [mail for mail in mails if "switched off" in mail["Subject"]]

        async def mailed() -> bool:
            return len(notices()) == 1

        await wait_until_async(mailed, within=15, what="the owner mailed")
        assert receiver.url in notices()[0].get_body(("plain",)).get_content()
        # Switched on again, it starts afresh.
        again = await client.patch(path, json={"active": True}, headers=bearer(owner))
        assert again.json()["data"]["failingSince"] is None
        assert again.json()["data"]["disabledReason"] is None


async def test_a_worker_killed_mid_delivery_loses_nothing(
    database_url: str, broker_url: str, broker_prefix: str, tmp_path: Path
) -> None:
    """With RabbitMQ the worker sends: killed while the receiver holds its request, the
    delivery stays pending; once its lease runs out the next worker sends it again."""
    receiver = Receiver(script=[HANG], otherwise=200)
    overrides = {"broker_url": broker_url, "broker_prefix": broker_prefix}
    settings = webhook_settings(database_url, **overrides, webhook_timeout_seconds=2)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")},
        "TASKYARD_DATABASE_URL": database_url,
        "TASKYARD_BROKER_URL": broker_url,
        "TASKYARD_BROKER_PREFIX": broker_prefix,
        "TASKYARD_SECRET_KEY": TEST_SECRET_KEY,
        "TASKYARD_WEBHOOK_ALLOW_PRIVATE": "true",
        "TASKYARD_WEBHOOK_TIMEOUT_SECONDS": "2",
        "TASKYARD_WEBHOOK_POLL_SECONDS": "0.05",
    }

    def start_worker(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        return subprocess.Popen([TASKYARD, "worker"], env=env, stdout=log, stderr=log)

    workers: list[subprocess.Popen[bytes]] = []
    try:
        async with receiving(receiver), api(settings) as client:
            workers.append(start_worker("first"))
            owner = await register(client, "Olu")
            project_id = await project_of(client, owner)
            created = await hook(client, owner, project_id, receiver.url, ["task.created"])
            await new_task(client, owner, "Kept", project_id)
            await received(receiver, 1, within=30)  # the first worker is mid-delivery
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            workers.append(start_worker("second"))
            await received(receiver, 2, within=40)
            assert len(set(receiver.ids())) == 1  # the same delivery, sent again

            async def delivered() -> list[dict[str, Any]] | None:
                rows = await attempts_of(client, owner, project_id, created["id"])
                return rows if rows and rows[0]["deliveryStatus"] == "delivered" else None

            rows = await wait_until_async(delivered, within=15, what="the delivery recorded")
            # The killed worker recorded nothing: one attempt, the one that went through.
            assert [row["statusCode"] for row in rows] == [200]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=15)


async def test_only_events_a_webhook_wants_go_through_the_worker(database_url: str) -> None:
    """Every change goes onto the live bus; only the ones some webhook of the project asked for
    are also queued for the worker (most projects have none: they cost it nothing)."""
    async with running_app(webhook_settings(database_url)) as (app, client):
        owner = await register(client, "Olu")
        project_id = await project_of(client, owner)
        quiet = await new_task(client, owner, "Nobody listens", project_id)
        await hook(client, owner, project_id, "http://127.0.0.1:9/hook", ["task.created"])
        await new_task(client, owner, "Somebody listens", project_id)
        renamed = await client.patch(
            f"/api/v1/tasks/{quiet['id']}", json={"title": "Renamed"}, headers=bearer(owner)
        )
        assert renamed.status_code == 200
        async with app.state.services.database.session(write=False) as session:
            written = select(OutboxEvent.type, OutboxEvent.payload).order_by(OutboxEvent.created_at)
            rows = (await session.execute(written)).all()
        live = [payload["type"] for kind, payload in rows if kind == LIVE_EVENT]
        outbound = [payload["type"] for kind, payload in rows if kind == LIVE_OUTBOUND]
        assert live == ["task.created", "task.created", "task.updated"]
        assert outbound == ["task.created"]
