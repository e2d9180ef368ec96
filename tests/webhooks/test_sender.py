"""The sender's rules on their own: where it may send, how long it waits between tries."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from taskyard.db import utc_now
from taskyard.webhooks.guard import UnsafeUrl, check_destination
from taskyard.webhooks.jobs import purge_old_deliveries
from taskyard.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from taskyard.webhooks.sender import MAX_RETRY_SECONDS, WebhookSender, retry_delay
from tests.helpers import bearer, register, running_app
from tests.support import make_settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.251/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_special_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="loopback, private, link-local or multicast"):
        await check_destination(url, allow_private=False)
    await check_destination(url, allow_private=True)  # allowed where asked for


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("https://user:secret@example.com/hook", "user name or password"),
        ("https:///hook", "host"),
        ("http://example.com:99999/hook", "valid URL"),
    ],
)
async def test_only_plain_http_urls_are_taken(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why):
        await check_destination(url, allow_private=True)


async def test_a_public_address_is_allowed() -> None:
    await check_destination("https://93.184.216.34/hook", allow_private=False)


async def test_the_destination_is_checked_again_at_each_delivery(database_url: str) -> None:
    """Registered while allowed (or before its DNS changed), a private address is still
    refused when the delivery goes out, and nothing is sent."""
    sender = WebhookSender(make_settings(database_url, webhook_allow_private=False))
    async with httpx.AsyncClient() as client:
        outcome = await sender.attempt(
            client, "http://127.0.0.1:9/hook", "whsec_" + "A" * 32, uuid.uuid4(), "{}"
        )
    assert outcome.status_code is None
    assert outcome.delivered is False
    assert outcome.error is not None
    assert outcome.error.startswith("Refused: Must not point at")


def test_retries_back_off_exponentially_with_jitter_up_to_a_ceiling() -> None:
    rng = random.Random(7)
    for attempts, expected in ((1, 5.0), (2, 15.0), (3, 45.0), (4, 135.0)):
        delays = [retry_delay(attempts, 5.0, rng) for _ in range(200)]
        assert expected * 0.8 <= min(delays) < max(delays) <= expected * 1.2
    assert retry_delay(30, 5.0, rng) <= MAX_RETRY_SECONDS * 1.2
    # Retrying with the defaults covers about a day before the window closes.
    waited, attempts = 0.0, 0
    while waited < 86_400:
        attempts += 1
        waited += retry_delay(attempts, 5.0, random.Random(0))
    assert 10 <= attempts <= 16


async def test_deliveries_are_kept_two_weeks_and_pending_ones_always(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        owner = await register(client, "Olu")
        made = await client.post("/api/v1/projects", json={"name": "P"}, headers=bearer(owner))
        database = app.state.services.database
        old = utc_now() - timedelta(days=15)
        async with database.session(write=True) as session:
            webhook = Webhook(
                project_id=uuid.UUID(made.json()["data"]["id"]),
                url="https://example.com/hook",
                events="task.created",
                secret="whsec_" + "A" * 32,
            )
            session.add(webhook)
            await session.flush()
            for status, created in (
                (DeliveryStatus.DELIVERED, old),
                (DeliveryStatus.FAILED, old),
                (DeliveryStatus.PENDING, old),
                (DeliveryStatus.DELIVERED, utc_now()),
            ):
                session.add(
                    WebhookDelivery(
                        webhook_id=webhook.id,
                        seq=0,
                        event_type="task.created",
                        payload="{}",
                        status=status,
                        created_at=created,
                    )
                )
            await session.commit()
        await purge_old_deliveries(database)
        async with database.session(write=False) as session:
            kept = (await session.execute(select(WebhookDelivery.status))).scalars().all()
        assert sorted(kept) == [DeliveryStatus.DELIVERED, DeliveryStatus.PENDING]
