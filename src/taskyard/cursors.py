"""Opaque, tamper-evident keyset cursors: a JSON position, base64url-encoded and HMAC-signed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from taskyard.errors import ValidationFailed

_SIGNATURE_BYTES = 16


class InvalidCursor(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("cursor", "Invalid or tampered cursor")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the app secret, so cursors can't be replayed as tokens.
        self._key = hashlib.sha256(b"taskyard-cursor\x00" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, position: dict[str, Any]) -> str:
        payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        return _b64encode(self._sign(payload) + payload)

    def decode(self, cursor: str) -> dict[str, Any]:
        try:
            raw = _b64decode(cursor)
        except (binascii.Error, ValueError) as error:
            raise InvalidCursor() from error
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor()
        try:
            position = json.loads(payload)
        except ValueError as error:
            raise InvalidCursor() from error
        if not isinstance(position, dict):
            raise InvalidCursor()
        return position
