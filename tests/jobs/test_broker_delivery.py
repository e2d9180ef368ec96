"""Events through the real RabbitMQ: relay with confirms, worker with acks, retries, dead letters.

Each test declares its own queues (a unique prefix) on the shared broker and removes them after.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from sqlalchemy import func, select, update

from taskyard.db import utc_now
from taskyard.exports.models import Export
from taskyard.exports.service import GAVE_UP
from taskyard.jobs.broker import EventMessage
from taskyard.jobs.models import ProcessedEvent
from taskyard.jobs.worker import Worker, broker_for
from taskyard.tasks.notifications import scan_due_soon
from taskyard.users.events import USER_REGISTERED
from taskyard.wiring import event_registry
from tests.helpers import bearer, register, running_app, running_worker, until
from tests.support import TEST_SECRET_KEY, SmtpServer, behind_proxy, make_settings

TASKYARD = str(Path(sys.executable).with_name("taskyard"))


@pytest.fixture
def settings_for(
    database_url: str, broker_url: str, broker_prefix: str, smtp_server: SmtpServer
) -> Callable[..., Any]:
    def build(**overrides: Any) -> Any:
        values = {
            "broker_url": broker_url,
            "broker_prefix": broker_prefix,
            "smtp_url": smtp_server.url,
            "job_max_attempts": 3,
            "job_retry_base_seconds": 0.05,
            "outbox_poll_seconds": 0.2,
            **overrides,
        }
        return make_settings(database_url, **values)

    return build


async def until_equal(
    probe: Callable[[], Awaitable[int]], expected: int, failure: str, within: float = 20.0
) -> None:
    deadline = time.monotonic() + within
    while await probe() != expected:
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.05)


def queue_types(prefix: str) -> dict[str, str]:
    """What the broker itself says of each queue under `prefix` (its own command line)."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_queues", "name", "type", "--formatter", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {
        queue["name"]: queue["type"]
        for queue in json.loads(listed.stdout)
        if queue["name"].startswith(f"{prefix}.")
    }


@pytest.mark.parametrize("quorum", [False, True], ids=["classic", "quorum"])
async def test_events_travel_through_rabbitmq_to_the_mail_server(
    settings_for: Callable[..., Any], smtp_server: SmtpServer, broker_prefix: str, quorum: bool
) -> None:
    settings = settings_for(broker_quorum=quorum)
    async with running_app(settings) as (app, client), running_worker(settings):
        owner, helper = await register(client, "Owner"), await register(client, "Helper")
        await client.post(
            "/api/v1/tasks",
            json={"title": "Via the broker", "assigneeId": helper["user"]["id"]},
            headers=bearer(owner),
        )
        relay = app.state.services.relay
        await until(lambda: len(smtp_server.to(helper["user"]["email"])) == 2, relay)
        await until(lambda: len(smtp_server.to(owner["user"]["email"])) == 1, relay)
        subjects = sorted(m["Subject"] for m in smtp_server.to(helper["user"]["email"]))
        assert subjects == ["Welcome to Taskyard", "You were assigned: Via the broker"]
        ready = (await client.get("/health/ready")).json()
        assert ready["components"]["broker"]["status"] == "up"
        types = queue_types(broker_prefix)
        assert len(types) == 1 + 1 + (settings.job_max_attempts - 1)  # events, dead, retries
        assert set(types.values()) == {"quorum" if quorum else "classic"}


async def test_writes_go_on_while_the_broker_is_away_and_nothing_is_lost(
    settings_for: Callable[..., Any], broker_url: str, smtp_server: SmtpServer
) -> None:
    async with (
        behind_proxy(broker_url, 5672) as (proxy, through_proxy),
        running_app(settings_for(broker_url=through_proxy)) as (app, client),
        running_worker(settings_for()),
    ):
        await proxy.cut()  # the API's side of the broker is gone
        people = [await register(client, f"Offline {n}") for n in range(5)]
        assert (await app.state.services.relay.drain_once()) == 5  # tried, failed, kept
        ready = (await client.get("/health/ready")).json()
        assert ready["status"] == "degraded"
        assert ready["components"]["broker"]["status"] == "down"
        assert smtp_server.messages == []

        await proxy.start()
        addresses = [p["user"]["email"] for p in people]
        await until(lambda: all(smtp_server.to(a) for a in addresses), app.state.services.relay)
        assert sorted(m["To"] for m in smtp_server.messages) == sorted(addresses)


async def test_a_worker_whose_broker_went_away_connects_again_and_delivers(
    settings_for: Callable[..., Any], broker_url: str, smtp_server: SmtpServer
) -> None:
    async with (
        behind_proxy(broker_url, 5672) as (proxy, through_proxy),
        running_app(settings_for()) as (app, client),
        running_worker(settings_for(broker_url=through_proxy)),
    ):
        before = await register(client, "Before")
        await until(lambda: bool(smtp_server.to(before["user"]["email"])), app.state.services.relay)
        await proxy.cut()  # the worker's link to the broker is gone, as in a restart
        await proxy.start()
        after = await register(client, "After")
        await until(
            lambda: bool(smtp_server.to(after["user"]["email"])),
            app.state.services.relay,
            within=30,
        )
        assert len(smtp_server.to(before["user"]["email"])) == 1


async def _queue_state(broker_url: str, name: str) -> tuple[int, int]:
    """(messages waiting, consumers) of a queue, as the broker counts them."""
    connection = await aio_pika.connect(broker_url, timeout=5)
    try:
        queue = await (await connection.channel()).declare_queue(name, passive=True)
        result = queue.declaration_result
        return int(result.message_count or 0), int(result.consumer_count or 0)
    finally:
        await connection.close()


async def test_a_stopping_worker_finishes_the_mail_it_is_sending_and_acks_it(
    settings_for: Callable[..., Any], broker_url: str, broker_prefix: str, smtp_server: SmtpServer
) -> None:
    settings = settings_for()
    queue = f"{broker_prefix}.events"
    async with running_app(settings) as (app, client):
        held = smtp_server.hold_first_message(then_accept=True)
        worker = Worker(settings, event_registry(settings))
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await until(lambda: worker.broker.queue is not None)
        person = await register(client, "Leaving")
        await until(held.is_set, app.state.services.relay)  # its welcome mail is mid-send
        stop.set()
        deadline = time.monotonic() + 10
        while (await _queue_state(broker_url, queue))[1] != 0:  # it stopped consuming
            assert time.monotonic() < deadline, "the worker never stopped consuming"
            await asyncio.sleep(0.05)
        smtp_server.release_held()
        await asyncio.wait_for(running, timeout=20)
        # Sent once and acked before the connection closed: nothing waits to be redelivered.
        assert len(smtp_server.to(person["user"]["email"])) == 1
        assert await _queue_state(broker_url, queue) == (0, 0)


@pytest.mark.parametrize("quorum", [False, True], ids=["classic", "quorum"])
async def test_a_failing_event_is_retried_then_dead_lettered_and_can_be_replayed(
    settings_for: Callable[..., Any], smtp_server: SmtpServer, quorum: bool
) -> None:
    settings = settings_for(broker_quorum=quorum)
    broker = broker_for(settings)
    async with running_app(settings) as (app, client), running_worker(settings):
        smtp_server.stop()  # every delivery fails
        auth = await register(client, "Unlucky")
        await app.state.services.relay.drain_once()
        await broker.connect()
        try:

            async def dead() -> int:
                return await broker.dead_letters()

            await until_equal(dead, 1, "the message never reached the dead letters")
            assert smtp_server.messages == []

            smtp_server.start()
            replay = await asyncio.to_thread(
                subprocess.run,
                [TASKYARD, "dead-letters", "--replay"],
                env={
                    **os.environ,
                    "TASKYARD_BROKER_URL": settings.broker_url,
                    "TASKYARD_BROKER_PREFIX": settings.broker_prefix,
                    "TASKYARD_BROKER_QUORUM": str(quorum).lower(),
                    "TASKYARD_SECRET_KEY": TEST_SECRET_KEY,
                    "TASKYARD_DATABASE_URL": settings.database_url,
                },
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert replay.returncode == 0, replay.stderr
            assert "replayed 1" in replay.stdout
            await until(lambda: len(smtp_server.to(auth["user"]["email"])) == 1)
            assert await dead() == 0
        finally:
            await broker.close()


async def test_a_worker_killed_before_acking_causes_one_redelivery_and_one_email(
    settings_for: Callable[..., Any], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = settings_for()
    gate = smtp_server.hold_first_message()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")},
        "TASKYARD_DATABASE_URL": settings.database_url,
        "TASKYARD_BROKER_URL": settings.broker_url,
        "TASKYARD_BROKER_PREFIX": settings.broker_prefix,
        "TASKYARD_SMTP_URL": smtp_server.url,
        "TASKYARD_SECRET_KEY": TEST_SECRET_KEY,
    }

    def start_worker(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        return subprocess.Popen([TASKYARD, "worker"], env=env, stdout=log, stderr=log)

    async with running_app(settings) as (app, client):
        first = start_worker("first")
        second: subprocess.Popen[bytes] | None = None
        try:
            auth = await register(client, "Exactly Once")
            await until(gate.is_set, app.state.services.relay)  # the first worker is mid-send
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            smtp_server.release_held()
            second = start_worker("second")
            await until(lambda: len(smtp_server.to(auth["user"]["email"])) == 1)
            assert smtp_server.handler.attempts >= 2  # it was delivered again

            async def processed_events() -> int:
                async with app.state.services.database.session(write=False) as session:
                    count = await session.scalar(select(func.count()).select_from(ProcessedEvent))
                return int(count or 0)

            # The event is recorded right after the mail went out, so the row may trail it.
            await until_equal(processed_events, 1, "the delivered event was never recorded")
            assert len(smtp_server.to(auth["user"]["email"])) == 1
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=15)


async def test_an_event_that_always_fails_ends_in_the_dead_letters(
    settings_for: Callable[..., Any], smtp_server: SmtpServer
) -> None:
    settings = settings_for()
    async with running_worker(settings) as worker:
        # An event type no queue takes is refused, so the outbox keeps it; never dropped.
        with pytest.raises(aio_pika.exceptions.DeliveryError):
            await worker.broker.publish(EventMessage(uuid.uuid4(), "no.such.event", {}))
        # One this worker takes but can never carry out (its payload names nobody).
        await worker.broker.publish(EventMessage(uuid.uuid4(), USER_REGISTERED, {}))
        deadline = time.monotonic() + 20
        while await worker.broker.dead_letters() != 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    assert smtp_server.messages == []


async def test_due_soon_and_export_mails_through_rabbitmq(
    settings_for: Callable[..., Any], smtp_server: SmtpServer
) -> None:
    settings = settings_for()
    async with running_app(settings) as (app, client), running_worker(settings) as worker:
        owner = await register(client, "Broker Owner")
        email = owner["user"]["email"]
        due = (utc_now() + timedelta(hours=3)).isoformat()
        await client.post(
            "/api/v1/tasks", json={"title": "Soon", "dueDate": due}, headers=bearer(owner)
        )
        assert await scan_due_soon(worker.database) == 1  # as the worker's schedule would
        requested = await client.post(
            "/api/v1/exports", json={"format": "csv"}, headers=bearer(owner)
        )
        assert requested.status_code == 202

        def subjects() -> set[str]:
            return {m["Subject"] for m in smtp_server.to(email)}

        expected = {"Welcome to Taskyard", "Due within 24 hours: Soon", "Your export is ready"}
        await until(lambda: subjects() == expected, app.state.services.relay, within=30)
        assert len(smtp_server.to(email)) == 3
        export = await client.get(
            requested.headers["location"].removeprefix("http://taskyard.test"),
            headers=bearer(owner),
        )
        assert export.json()["data"]["status"] == "done"


async def test_a_prefix_s_topology_can_be_removed_whole(broker_url: str) -> None:
    """What a test or a benchmark declared under its own prefix leaves nothing behind."""
    import aio_pika
    from aiormq.exceptions import ChannelNotFoundEntity

    from taskyard.jobs.broker import Broker

    prefix = f"cleanup-{uuid.uuid4().hex[:8]}"
    broker = Broker(broker_url, prefix=prefix, max_attempts=4, retry_base_seconds=0.05)
    await broker.connect()
    names = [broker.queue_name, broker.dead_queue_name, broker.retry_queue_name(3)]
    await broker.delete_topology()
    connection = await aio_pika.connect(broker_url)
    try:
        for name in names:
            channel = await connection.channel()
            with pytest.raises(ChannelNotFoundEntity):
                await channel.declare_queue(name, passive=True)
    finally:
        await connection.close()


async def test_a_worker_that_gives_an_export_up_marks_it_failed(
    settings_for: Callable[..., Any],
) -> None:
    settings = settings_for()
    async with running_app(settings) as (app, client), running_worker(settings) as worker:
        owner = await register(client, "Export Owner")
        requested = await client.post(
            "/api/v1/exports", json={"format": "csv"}, headers=bearer(owner)
        )
        export_id = requested.json()["data"]["id"]
        # Filters its build can never use: every try fails, then the event is given up.
        async with app.state.services.database.session(write=True) as session:
            await session.execute(
                update(Export)
                .where(Export.id == uuid.UUID(export_id))
                .values(filters={"search": 5})
            )
            await session.commit()
        await app.state.services.relay.drain_once()
        url = f"/api/v1/exports/{export_id}"

        async def status() -> str:
            return str((await client.get(url, headers=bearer(owner))).json()["data"]["status"])

        deadline = time.monotonic() + 30
        while await status() != "failed":
            assert time.monotonic() < deadline, "the export never showed as failed"
            await asyncio.sleep(0.1)
        body = (await client.get(url, headers=bearer(owner))).json()["data"]
        assert body["error"] == GAVE_UP
        assert await worker.broker.dead_letters() == 1
