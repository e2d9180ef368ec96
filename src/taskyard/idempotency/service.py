"""Safe retries: a request sent again with the same Idempotency-Key gets the first answer and
writes nothing new; the key with another request is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel
from starlette.responses import Response

from taskyard.db import Database, utc_now
from taskyard.errors import AppError
from taskyard.idempotency.repository import IdempotencyRepository

KEY_TTL = timedelta(hours=24)
# Response headers a replay repeats: where the new resource is, and the session cookie.
REPLAYED_HEADERS = ("location", "set-cookie", "content-type")
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(AppError):
    status_code = 422
    message = "This Idempotency-Key was already used with a different request"


class IdempotencyKeyInFlight(AppError):
    status_code = 409
    message = "A request with this Idempotency-Key is still being processed; retry shortly"


class ResponseSeal:
    """AES-GCM under a key derived from the server's secret: stored answers stay unreadable
    without it, and a fingerprint can't be recomputed from the table alone."""

    def __init__(self, secret: str) -> None:
        self._cipher = AESGCM(hashlib.sha256(f"taskyard idempotency|{secret}".encode()).digest())
        self._mac_key = hashlib.sha256(f"taskyard fingerprint|{secret}".encode()).digest()

    def fingerprint(self, method: str, path: str, body: Any) -> str:
        canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
        return hmac.new(self._mac_key, canonical.encode(), hashlib.sha256).hexdigest()

    def seal(self, response: Response) -> bytes:
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.raw_headers
            if name.decode("latin-1") in REPLAYED_HEADERS
        ]
        plain = json.dumps({"body": bytes(response.body).decode(), "headers": headers})
        nonce = os.urandom(12)
        return nonce + self._cipher.encrypt(nonce, plain.encode(), None)

    def open(self, status_code: int, sealed: bytes) -> Response:
        stored = json.loads(self._cipher.decrypt(sealed[:12], sealed[12:], None))
        response = Response(stored["body"], status_code=status_code)
        for name, value in stored["headers"]:
            response.raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
        # Exactly one Content-Length, the body's, whatever the stored headers carried.
        response.headers["content-length"] = str(len(response.body))
        response.headers[REPLAY_HEADER] = "true"
        return response


@dataclass
class Idempotency:
    """One request's key (None: the client sent none, and nothing changes)."""

    repository: IdempotencyRepository
    seal: ResponseSeal
    scope: str
    key: str | None
    method: str
    path: str

    async def run(self, body: BaseModel, produce: Callable[[], Awaitable[Response]]) -> Response:
        """The stored answer for a key seen before with this `body`; else `produce()`'s,
        stored in the same transaction as the write it made."""
        if self.key is None:
            return await produce()
        fingerprint = self.seal.fingerprint(self.method, self.path, body.model_dump(mode="json"))
        now = utc_now()
        if not await self.repository.claim(
            self.scope, self.key, fingerprint, now=now, expires_at=now + KEY_TTL
        ):
            return await self._replay(fingerprint)
        response = await produce()
        await self.repository.complete(
            self.scope, self.key, response.status_code, self.seal.seal(response)
        )
        return response

    async def _replay(self, fingerprint: str) -> Response:
        assert self.key is not None
        record = await self.repository.find(self.scope, self.key)
        if record is None or record.status_code is None or record.sealed_response is None:
            raise IdempotencyKeyInFlight()
        if not hmac.compare_digest(record.fingerprint, fingerprint):
            raise IdempotencyKeyReused()
        return self.seal.open(record.status_code, record.sealed_response)


async def purge_expired(database: Database) -> int:
    async with database.session(write=True) as session:
        purged = await IdempotencyRepository(session).delete_expired(utc_now())
        await session.commit()
    return purged
