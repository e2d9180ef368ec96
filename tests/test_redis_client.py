from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest
from private_servers import PrivateRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from taskyard.config import Settings
from taskyard.logging import configure_logging
from taskyard.redis_client import (
    SOCKET_TIMEOUT_SECONDS,
    BackendGuard,
    KeySpace,
    create_redis,
    warm_pool,
)
from tests.support import any_free_port, private


def test_guard_logs_an_outage_once_per_interval_and_skips_briefly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging(Settings())
    logging.getLogger().addHandler(caplog.handler)  # configure_logging replaced the handlers
    guard = BackendGuard("redis", retry_after=60, log_interval=60)
    with caplog.at_level(logging.INFO, logger="taskyard.redis"):
        for _ in range(50):
            guard.record_failure("rate_limit", ConnectionError("refused"))
        assert guard.should_skip()
        assert guard.is_failing
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        guard.record_success()
    assert not guard.is_failing
    assert any("recovered" in r.getMessage() for r in caplog.records)


def test_guard_retries_after_the_pause() -> None:
    guard = BackendGuard("redis", retry_after=0)
    guard.record_failure("denylist_check", TimeoutError())
    assert not guard.should_skip()


async def test_the_pool_never_opens_more_connections_than_its_bound(
    private_redis: PrivateRedis,
) -> None:
    # A server of its own: on the shared one, other clients come and go while this counts.
    bound = 3
    client = create_redis(Settings(redis_url=private_redis.url, redis_max_connections=bound))
    observer = Redis.from_url(private_redis.url)
    assert client is not None
    try:
        baseline = (await observer.info("clients"))["connected_clients"]
        peak = baseline
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, (await observer.info("clients"))["connected_clients"])
                await asyncio.sleep(0.01)

        watching = asyncio.create_task(watch())
        # Each command holds its connection 0.1 s; twelve at once take four turns of three.
        answers = await asyncio.gather(
            *(client.blpop([f"taskyard-test-empty-{n}"], timeout=0.1) for n in range(12))
        )
        done.set()
        await watching
        assert answers == [None] * 12
        assert 1 <= peak - baseline <= bound
    finally:
        await client.aclose()
        await observer.aclose()


async def test_a_command_queues_for_a_busy_pool_rather_than_failing(
    private_redis: PrivateRedis,
) -> None:
    """A burst above the pool is no outage: a command waits for a connection longer than a
    socket may take to answer, instead of failing (and the cache and limits failing open)."""
    client = create_redis(Settings(redis_url=private_redis.url, redis_max_connections=1))
    assert client is not None
    try:
        pool = client.connection_pool
        held = await pool.get_connection()  # type: ignore[no-untyped-call]

        async def hand_back_later() -> None:
            await asyncio.sleep(2 * SOCKET_TIMEOUT_SECONDS)
            await pool.release(held)

        handing_back = asyncio.create_task(hand_back_later())
        started = asyncio.get_running_loop().time()
        assert await client.set("taskyard-test-queued", "yes") is True
        waited = asyncio.get_running_loop().time() - started
        await handing_back
        assert waited > SOCKET_TIMEOUT_SECONDS  # it did queue behind the held connection
        assert await client.get("taskyard-test-queued") == b"yes"
    finally:
        await client.aclose()


async def test_warming_opens_the_whole_pool_and_a_burst_adds_nothing(
    private_redis: PrivateRedis,
) -> None:
    # A server of its own: on a shared one, other tests' connections would count too.
    bound = 4
    client = create_redis(Settings(redis_url=private_redis.url, redis_max_connections=bound))
    observer = Redis.from_url(private_redis.url)

    async def connected() -> int:
        return int((await observer.info("clients"))["connected_clients"])

    try:
        baseline = await connected()
        await warm_pool(client)
        assert await connected() - baseline == bound
        assert client is not None
        await asyncio.gather(
            *(client.blpop([f"taskyard-test-empty-{n}"], timeout=0.05) for n in range(12))
        )
        assert await connected() - baseline == bound
    finally:
        if client is not None:
            await client.aclose()
        await observer.aclose()


async def test_warming_a_redis_out_of_reach_says_so_and_lets_the_process_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging(Settings())
    logging.getLogger().addHandler(caplog.handler)  # configure_logging replaced the handlers
    client = create_redis(Settings(redis_url=f"redis://127.0.0.1:{any_free_port()}/0"))
    assert client is not None
    try:
        with caplog.at_level(logging.WARNING, logger="taskyard.redis"):
            await warm_pool(client)  # refused: logged, not raised
        [warning] = [r.msg for r in caplog.records if "redis pool" in str(r.msg)]
        assert isinstance(warning, dict)
        assert (warning["event"], warning["failed"]) == ("redis pool not opened", 20)
    finally:
        await client.aclose()


async def test_every_connection_learns_which_run_of_the_server_it_reaches(
    tmp_path: Path,
) -> None:
    """A restart is a new run_id, and with it a new key space; until a connection has said,
    the space is unknown and nothing is read or written under a guess."""
    server = private(lambda: PrivateRedis(tmp_path))
    server.start()
    client = create_redis(Settings(redis_url=server.url))
    assert client is not None
    keys = KeySpace("taskyard-test", client.lifetime)
    try:
        assert keys.current() is None
        first = await keys.resolve(client)
        run_id = str((await client.info("server"))["run_id"])
        assert first == f"taskyard-test:{run_id[:16]}"
        assert keys.holds(first)
        server.kill()
        server.start()
        with contextlib.suppress(RedisConnectionError):
            await client.ping()  # the pooled connection died with the server
        await client.ping()  # a new one: it reads the new run as it connects
        second = keys.current()
        assert second is not None
        assert second != first
        assert not keys.holds(first)
        assert second == f"taskyard-test:{str((await client.info('server'))['run_id'])[:16]}"
    finally:
        await client.aclose()
        server.stop()
    # In process there is no server: the prefix alone.
    assert KeySpace("taskyard-test").current() == "taskyard-test"
