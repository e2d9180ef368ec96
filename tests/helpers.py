"""In-process helpers: register people and call the API through the ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
from private_servers import wait_until_async
from sqlalchemy import event

from taskyard.app import create_app
from taskyard.config import Settings
from taskyard.db import Database
from taskyard.errors import Unauthorized
from taskyard.identity.roles import Role
from taskyard.jobs.worker import Worker
from taskyard.users.models import User
from taskyard.users.repository import UserRepository
from taskyard.wiring import event_registry
from tests.support import truncate_all

PASSWORD = "correct-horse-battery"


async def register(client: httpx.AsyncClient, name: str = "Test Person") -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post(
        "/api/v1/auth/register", json={"name": name, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def make_admin(database: Database, user_id: str) -> None:
    async with database.session(write=True) as session:
        user = await UserRepository(session).get(uuid.UUID(user_id))
        assert user is not None
        user.role = Role.ADMIN
        await session.commit()


async def register_admin(client: httpx.AsyncClient, database: Database) -> dict[str, Any]:
    auth = await register(client, name="An Admin")
    await make_admin(database, auth["user"]["id"])
    return auth


def bearer(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['token']}"}


async def new_task(
    client: httpx.AsyncClient, who: dict[str, Any], title: str, project_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title}
    if project_id is not None:
        body["projectId"] = project_id
    created = await client.post("/api/v1/tasks", json=body, headers=bearer(who))
    assert created.status_code == 201, created.text
    task: dict[str, Any] = created.json()["data"]
    return task


async def load_user(database: Database, user_id: str) -> User:
    async with database.session(write=False) as session:
        user = await UserRepository(session).get(uuid.UUID(user_id))
        assert user is not None
        return user


@asynccontextmanager
async def running_app(
    settings: Settings, client_address: tuple[str, int] = ("203.0.113.7", 50000)
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """An app built from `settings` and a client calling it from `client_address`."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=client_address)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://taskyard.test"
        ) as client:
            yield app, client
    finally:
        if app.state.services.broker is not None:  # the relay's publishing connection
            await app.state.services.broker.close()
        await truncate_all(app.state.services.database)
        await app.state.services.database.dispose()
        if app.state.services.redis is not None:
            await app.state.services.redis.aclose()


def client_from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://taskyard.test")


@asynccontextmanager
async def running_worker(settings: Any) -> AsyncIterator[Worker]:
    worker = Worker(settings, event_registry(settings))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: worker.broker.queue is not None or task.done())
        if task.done():
            task.result()  # the worker could not start: show why
        yield worker
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=10)


async def until(condition: Callable[[], bool], relay: Any = None, within: float = 20.0) -> None:
    """Until `condition()` holds, draining `relay`'s outbox between looks."""

    async def met() -> bool:
        if condition():
            return True
        if relay is not None:
            await relay.drain_once()
        return False

    await wait_until_async(met, within=within, what="the condition")


@asynccontextmanager
async def serving(asgi_app: Any) -> AsyncIterator[str]:
    """An ASGI app behind a real uvicorn on a free port in this event loop, with its lifespan:
    for what the ASGI transport can't carry (an endless stream, a real HTTP peer)."""
    import uvicorn

    from tests.support import any_free_port

    port = any_free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            asgi_app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,  # a peer that hangs on purpose must not hang the test
        )
    )
    running = asyncio.create_task(server.serve())
    try:

        async def started() -> bool | None:
            return True if server.started or running.done() else None

        await wait_until_async(started, within=20, what="uvicorn to start")
        if running.done():
            running.result()  # what stopped it
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await running


@asynccontextmanager
async def serving_app(settings: Settings) -> AsyncIterator[tuple[Any, str]]:
    """Taskyard served for real (`serving`): its relay, live hub and, without a broker, its
    periodic jobs and webhook sender run as in `taskyard serve`."""
    app = create_app(settings)
    try:
        async with serving(app) as base_url:
            yield app, base_url
    finally:
        await truncate_all(app.state.services.database)


class RouteWatch:
    """Stands in for the routes' caller dependency (`get_principal`), noting each request that
    reaches it: a request answered before the routes never does."""

    def __init__(self) -> None:
        self.reached = 0

    def __call__(self) -> Any:
        self.reached += 1
        raise Unauthorized("reached the routes")


TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


@contextmanager
def counted_statements(
    database: Database, *, transaction_control: bool = False
) -> Iterator[list[str]]:
    """Every statement the database's connections run meanwhile: through SQLAlchemy, and
    straight through asyncpg (`db/native.py`: the hottest reads and a create's writes, on
    PostgreSQL). asyncpg hands its log over on the loop's next turn, which a request reaches
    after its statements when its commit waits on the database; one whose write was its own
    transaction (`write_rows(whole=True)`) may end first, so wait for that statement."""
    statements: list[str] = []
    watched: list[Any] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if not statement.startswith("BEGIN"):  # SQLite's explicit transaction start
            statements.append(statement)

    def record_native(logged: Any) -> None:
        # The transaction's own BEGIN and COMMIT pass through the driver's log too.
        verb = logged.query.split(maxsplit=1)[0].rstrip(";").upper()
        if transaction_control or verb not in TRANSACTION_CONTROL:
            statements.append(logged.query)

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and hasattr(driver, "add_query_logger") and driver not in watched:
            driver.add_query_logger(record_native)
            watched.append(driver)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine.pool, "checkout", on_checkout)
        for driver in watched:
            driver.remove_query_logger(record_native)
