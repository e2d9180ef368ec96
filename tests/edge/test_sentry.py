"""Errors reach Sentry when a DSN is set: here a real HTTP endpoint that stores what it gets."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from fastapi import APIRouter

from tests.helpers import running_app
from tests.support import make_settings


class IngestServer(ThreadingHTTPServer):
    envelopes: list[bytes]


class IngestHandler(BaseHTTPRequestHandler):
    server: IngestServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def ingest() -> Iterator[IngestServer]:
    server = IngestServer(("127.0.0.1", 0), IngestHandler)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    sentry_sdk.init()  # back to no client, for the tests that follow


async def test_unhandled_errors_are_reported_without_secrets(
    sqlite_url: str, ingest: IngestServer
) -> None:
    port = ingest.server_address[1]
    settings = make_settings(sqlite_url, sentry_dsn=f"http://publickey@127.0.0.1:{port}/42")
    async with running_app(settings) as (app, client):
        router = APIRouter()

        @router.get("/explode")
        async def explode() -> None:
            raise ZeroDivisionError("kaboom in a handler")

        app.include_router(router)
        token = f"token-{uuid.uuid4().hex}"  # built at run time: source context can't hold it
        response = await client.get("/explode", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 500
        sentry_sdk.flush(timeout=5)

    deadline = time.monotonic() + 10
    while not ingest.envelopes:
        assert time.monotonic() < deadline, "nothing reached the Sentry endpoint"
        await asyncio.sleep(0.05)
    envelope = b"\n".join(ingest.envelopes).decode()
    assert "ZeroDivisionError" in envelope
    assert "kaboom in a handler" in envelope
    assert token not in envelope
    events = [json.loads(line) for line in envelope.splitlines() if '"exception"' in line]
    assert events[0]["environment"] == "test"
