"""Read replicas for real: a private PostgreSQL primary on a free port, and a streaming replica
made from it with `pg_basebackup -R`. Both are removed afterwards."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from private_servers import wait_until, wait_until_async
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from taskyard.db import REPLICA_APPLICATION_NAME, Database
from taskyard.migrations import upgrade
from tests.helpers import bearer, register, running_app
from tests.support import any_free_port, in_fresh_loop, make_settings, service_unavailable


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    if not found:
        service_unavailable("PostgreSQL server binaries (initdb, pg_basebackup) are not installed")
    return Path(found[-1]).parent


class ReplicaPair:
    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="taskyard-pg-"))
        self.primary_port, self.replica_port = any_free_port(), any_free_port()
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def _options(self, port: int) -> str:
        return (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c wal_level=replica -c max_wal_senders=5 -c hot_standby=on -c fsync=off"
        )

    def start(self, name: str, port: int) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.root / name),
            "-o",
            self._options(port),
            "-l",
            str(self.root / f"{name}.log"),
            "-w",
            "start",
        )

    def stop(self, name: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / name), "-m", "fast", "-w", "stop")

    def create(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.root / "primary"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        self.start("primary", self.primary_port)
        self._run(
            str(self.bin / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            "postgres",
            "-D",
            str(self.root / "replica"),
            "-R",
            "-X",
            "stream",
        )
        self.start("replica", self.replica_port)

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{database}"

    def remove(self) -> None:
        for name in ("replica", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                subprocess.run(
                    [
                        *(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []),
                        str(self.bin / "pg_ctl"),
                        "-D",
                        str(self.root / name),
                        "-m",
                        "immediate",
                        "stop",
                    ],
                    capture_output=True,
                    check=False,
                    timeout=60,
                )
        shutil.rmtree(self.root, ignore_errors=True)


def query(url: str, statement: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                result = await connection.execute(text(statement))
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return in_fresh_loop(run)


@pytest.fixture(scope="module")
def replicas() -> Iterator[ReplicaPair]:
    pair = ReplicaPair()
    try:
        pair.create()
        query(pair.url(pair.primary_port), "CREATE DATABASE taskyard")
        in_fresh_loop(lambda: asyncio.to_thread(upgrade, pair.url(pair.primary_port, "taskyard")))
        yield pair
    finally:
        pair.remove()


def settings_for(pair: ReplicaPair, **overrides: Any) -> Any:
    return make_settings(
        pair.url(pair.primary_port, "taskyard"),
        database_replica_urls=[pair.url(pair.replica_port, "taskyard")],
        **overrides,
    )


def replica_sessions(pair: ReplicaPair) -> list[str]:
    rows = query(
        pair.url(pair.replica_port),
        f"SELECT query FROM pg_stat_activity WHERE application_name = '{REPLICA_APPLICATION_NAME}'",
    )
    return [str(row[0]) for row in rows]


async def titles(client: httpx.AsyncClient, auth: dict[str, Any]) -> list[str]:
    response = await client.get("/api/v1/tasks", params={"limit": 100}, headers=bearer(auth))
    assert response.status_code == 200
    return [task["title"] for task in response.json()["data"]]


async def test_reads_are_served_by_the_replica(replicas: ReplicaPair) -> None:
    async with running_app(settings_for(replicas, read_your_writes_seconds=0)) as (_, client):
        auth = await register(client)
        response = await client.post(
            "/api/v1/tasks", json={"title": "Replicated"}, headers=bearer(auth)
        )
        assert response.status_code == 201
        wait_until(
            lambda: bool(
                query(
                    replicas.url(replicas.replica_port, "taskyard"),
                    "SELECT 1 FROM tasks WHERE title = 'Replicated'",
                )
            ),
            within=20,
            what="the task replicated",
        )
        assert await titles(client, auth) == ["Replicated"]
        # The replica's own bookkeeping shows our task query ran there.
        assert any("FROM tasks" in statement for statement in replica_sessions(replicas))


async def test_a_writer_reads_their_own_write_while_the_replica_lags(
    replicas: ReplicaPair,
) -> None:
    replica_admin = replicas.url(replicas.replica_port)
    # The response cache off: these reads must show where they were served from.
    settings = settings_for(replicas, read_your_writes_seconds=1.5, cache_enabled=False)
    async with running_app(settings) as (_, client):
        auth = await register(client)
        wait_until(
            lambda: bool(
                query(
                    replicas.url(replicas.replica_port, "taskyard"),
                    f"SELECT 1 FROM users WHERE email = '{auth['user']['email']}'",
                )
            ),
            within=20,
            what="the account replicated",
        )
        query(replica_admin, "SELECT pg_wal_replay_pause()")
        try:
            await client.post("/api/v1/tasks", json={"title": "Mine, now"}, headers=bearer(auth))
            # Straight after the write: the primary answers, so the task is there.
            assert await titles(client, auth) == ["Mine, now"]

            # Once the window has passed, reads go back to the (paused, stale) replica.
            async def from_the_replica() -> bool:
                return await titles(client, auth) == []

            await wait_until_async(
                from_the_replica, within=10, what="reads back on the replica", every=0.2
            )
        finally:
            query(replica_admin, "SELECT pg_wal_replay_resume()")

        async def caught_up() -> bool:
            return await titles(client, auth) == ["Mine, now"]

        await wait_until_async(caught_up, within=10, what="the replica caught up", every=0.2)


async def test_a_stopped_replica_is_skipped_without_errors(replicas: ReplicaPair) -> None:
    async with running_app(settings_for(replicas, read_your_writes_seconds=0)) as (_, client):
        auth = await register(client)
        await client.post("/api/v1/tasks", json={"title": "Survives"}, headers=bearer(auth))
        replicas.stop("replica")
        try:
            for _ in range(5):
                assert await titles(client, auth) == ["Survives"]
            metrics = (await client.get("/metrics")).text
            assert 'taskyard_db_reads_total{target="replica_failed"}' in metrics
        finally:
            replicas.start("replica", replicas.replica_port)


async def test_a_replica_that_stops_mid_request_hands_its_reads_to_the_primary(
    replicas: ReplicaPair,
) -> None:
    database = Database(settings_for(replicas))
    session = await database.replica_session()
    try:
        assert await session.scalar(text("SELECT pg_is_in_recovery()")) is True
        replicas.stop("replica")  # the session's connection dies with it
        try:
            # The same request reads on, from the primary, and sees no error.
            assert await session.scalar(text("SELECT pg_is_in_recovery()")) is False
            # And what it reads is the primary's: the same count as a session opened there.
            counted = await session.scalar(text("SELECT count(*) FROM users"))
            async with database.session(write=False) as primary:
                assert counted == await primary.scalar(text("SELECT count(*) FROM users"))
            # The requests after it skip the replica for a while.
            async with await database.replica_session() as later:
                assert await later.scalar(text("SELECT pg_is_in_recovery()")) is False
        finally:
            replicas.start("replica", replicas.replica_port)
    finally:
        await session.close()
        await database.dispose()
