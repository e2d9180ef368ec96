"""The job plumbing's command: `dead-letters`, counted or replayed, wherever they are."""

from __future__ import annotations

import argparse
import asyncio

from taskyard.commands import BuildServices, Command, load_settings, require_services
from taskyard.db import Database
from taskyard.jobs.repository import OutboxRepository
from taskyard.jobs.worker import broker_for


def dead_letters(args: argparse.Namespace, _build_services: BuildServices) -> None:
    """Dead letters live in RabbitMQ's dead-letter queue, or without a broker in the outbox."""
    settings = load_settings()
    if settings.broker_url is not None:
        require_services(settings, database=False, broker=True)
    else:
        require_services(settings)

    async def from_broker() -> None:
        broker = broker_for(settings)
        await broker.connect()
        try:
            if args.replay:
                moved = await broker.replay_dead_letters(args.limit)
                print(f"replayed {moved} dead letter(s) to {broker.queue_name}")
            else:
                print(f"{await broker.dead_letters()} dead letter(s) in {broker.dead_queue_name}")
        finally:
            await broker.close()

    async def from_outbox() -> None:
        database = Database(settings)
        try:
            async with database.session(write=True) as session:
                outbox = OutboxRepository(session)
                if args.replay:
                    moved = await outbox.replay_dead(args.limit)
                    await session.commit()
                    print(f"replayed {moved} dead letter(s) from the outbox")
                else:
                    print(f"{await outbox.dead_count()} dead letter(s) in the outbox")
        finally:
            await database.dispose()

    asyncio.run(from_broker() if settings.broker_url is not None else from_outbox())


def _dead_letter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replay", action="store_true", help="put them back on the queue")
    parser.add_argument(
        "--limit", type=int, default=None, help="replay at most this many (default: all)"
    )


COMMANDS = [
    Command(
        "dead-letters",
        "count the events that failed every try, or replay them",
        dead_letters,
        reads=("process", "database", "jobs"),
        options=_dead_letter_options,
    ),
]
