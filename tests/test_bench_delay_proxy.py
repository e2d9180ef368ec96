"""The fault benchmark's delaying link (bench/delay_proxy.py), in front of a real TCP server."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import any_free_port

REPO = Path(__file__).resolve().parents[1]
DELAY_MS = 200


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        if line == b"hang up\n":
            break
        writer.write(line)
        await writer.drain()
    writer.close()


@pytest.fixture
async def proxied_port() -> AsyncIterator[tuple[int, asyncio.subprocess.Process]]:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    target = server.sockets[0].getsockname()[1]
    listen = any_free_port()
    proxy = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "bench" / "delay_proxy.py"),
        *("--listen", str(listen), "--target", str(target), "--delay-ms", str(DELAY_MS)),
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", listen)
            writer.close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the proxy never listened"
            await asyncio.sleep(0.05)
    try:
        yield listen, proxy
    finally:
        proxy.terminate()
        await asyncio.wait_for(proxy.wait(), timeout=10)
        server.close()


async def round_trip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    started = time.monotonic()
    writer.write(b"ping\n")
    await writer.drain()
    assert await reader.readline() == b"ping\n"
    return time.monotonic() - started


async def test_the_link_adds_its_delay_only_while_turned_on(
    proxied_port: tuple[int, asyncio.subprocess.Process],
) -> None:
    port, proxy = proxied_port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await round_trip(reader, writer) < DELAY_MS / 1000
    proxy.send_signal(signal.SIGUSR1)
    # The signal lands asynchronously: wait for the first slowed round trip, then time more.
    deadline = time.monotonic() + 10
    while await round_trip(reader, writer) < DELAY_MS / 1000:
        assert time.monotonic() < deadline, "the delay never came on"
    assert all([await round_trip(reader, writer) >= DELAY_MS / 1000 for _ in range(3)])
    proxy.send_signal(signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while await round_trip(reader, writer) >= DELAY_MS / 1000:
        assert time.monotonic() < deadline, "the delay never went off"
    writer.close()


async def test_a_connection_the_server_closes_is_closed_for_the_client(
    proxied_port: tuple[int, asyncio.subprocess.Process],
) -> None:
    port, _proxy = proxied_port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hang up\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""
    writer.close()
