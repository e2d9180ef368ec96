"""The auth service's Ed25519 signing keys: which one signs, which are published, rotation.

A rotation publishes the new key at once but signs with it only `lead` later, so every instance
(each reloads the keys every few seconds) and every verifier knows it before it meets a token
it signed. The old key stays published until the last token it signed has expired.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from taskyard.access_tokens import KEY_SET_ALGORITHM
from taskyard.auth.models import SigningKey
from taskyard.auth.repository import SigningKeyRepository
from taskyard.db import Database, is_outage, utc_now
from taskyard.errors import ServiceUnavailable
from taskyard.logging import get_logger

logger = get_logger("taskyard.keys")
# A token signed the moment before a key retires still verifies for this long past its expiry.
RETIRE_LEEWAY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Rotation:
    kid: str
    signs_from: datetime
    previous_retire_after: datetime


def new_signing_key(secret: str, *, active_from: datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    kid = uuid.uuid4().hex
    jwk: dict[str, Any] = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, alg=KEY_SET_ALGORITHM, use="sig")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret.encode()),
    )
    return SigningKey(kid=kid, private_key=pem.decode(), public_jwk=jwk, active_from=active_from)


async def rotate(
    database: Database, secret: str, *, lead: timedelta, token_ttl: timedelta
) -> Rotation:
    """A new signing key, signing from `lead` on; the keys before it retire once the tokens they
    can still sign until then have expired."""
    now = utc_now()
    key = new_signing_key(secret, active_from=now + lead)
    retire_after = key.active_from + token_ttl + RETIRE_LEEWAY
    async with database.session(write=True) as session:
        repository = SigningKeyRepository(session)
        await repository.retire_unretired(after=retire_after)
        await repository.add(key)
        await session.commit()
    return Rotation(kid=key.kid, signs_from=key.active_from, previous_retire_after=retire_after)


@dataclass(frozen=True, slots=True)
class _LoadedKey:
    kid: str
    active_from: datetime
    private: Ed25519PrivateKey


class KeyRing:
    """This instance's view of the signing keys, read again from the database when it is older
    than `reload_seconds`. Signs with the newest key already active; publishes every key not yet
    retired. While the database is away it keeps signing with what it last read."""

    def __init__(self, database: Database, secret: str, *, reload_seconds: float = 5.0) -> None:
        self.database = database
        self._secret = secret.encode()
        self.reload_seconds = reload_seconds
        self._loaded: dict[str, _LoadedKey] = {}
        self._published: list[dict[str, Any]] = []
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        async with self.database.session(write=False) as session:
            keys = await SigningKeyRepository(session).published(utc_now())
        if not keys:  # a fresh database: the first key, signing at once
            async with self.database.session(write=True) as session:
                first = new_signing_key(self._secret.decode(), active_from=utc_now())
                await SigningKeyRepository(session).add(first)
                await session.commit()
            keys = [first]
        loaded = {}
        for key in keys:
            known = self._loaded.get(key.kid)
            loaded[key.kid] = known or _LoadedKey(key.kid, key.active_from, self._decrypt(key))
        self._loaded = loaded
        self._published = [dict(key.public_jwk) for key in keys]
        self._loaded_at = time.monotonic()

    async def prepare(self) -> None:
        await self._fresh()

    async def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.reload_seconds:
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at < self.reload_seconds:
                return  # another request just read them
            try:
                await self.load()
            except Exception as error:
                if not self._loaded:
                    raise ServiceUnavailable() from error  # no key to sign with yet
                if is_outage(error):
                    self.database.outage.record_failure("signing keys", error)
                else:
                    logger.exception("signing keys could not be read; signing with the last read")

    def _decrypt(self, key: SigningKey) -> Ed25519PrivateKey:
        private = serialization.load_pem_private_key(key.private_key.encode(), self._secret)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"signing key {key.kid} is not an Ed25519 key")
        return private

    def _document(self) -> dict[str, Any]:
        return {"keys": list(self._published)}

    async def jwks(self) -> dict[str, Any]:
        await self._fresh()
        return self._document()

    async def reloaded_jwks(self) -> dict[str, Any]:
        """The key set as the database has it now (a verifier in this process met a new kid)."""
        async with self._lock:
            await self.load()
        return self._document()

    async def sign(self, claims: dict[str, Any]) -> str:
        await self._fresh()
        now = utc_now()
        active = [key for key in self._loaded.values() if key.active_from <= now]
        if not active:
            raise ServiceUnavailable()  # only keys that sign later: nothing may sign yet
        key = max(active, key=lambda candidate: (candidate.active_from, candidate.kid))
        headers = {"kid": key.kid}
        return jwt.encode(claims, key.private, algorithm=KEY_SET_ALGORITHM, headers=headers)
