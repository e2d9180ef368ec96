"""Losing a task-service instance under load, through the gateway: every acknowledged write is
there afterwards, and no write was sent twice (nginx retries only what it never delivered)."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.serving import Server, bearer, register, served_split

WRITERS = 4
WRITES_PER_WRITER = 60


@pytest.fixture(scope="module")
def split(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from served_split(request, tmp_path_factory.mktemp("split-gateway"))


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
