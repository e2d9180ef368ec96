"""Opaque, tamper-evident keyset cursors: a JSON position, signed by itsdangerous."""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from taskyard.errors import ValidationFailed


class InvalidCursor(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("cursor", "Invalid or tampered cursor")


class CursorCodec:
    def __init__(self, secret: str) -> None:
        # A salt of its own, so a cursor can never pass for anything else signed with the secret.
        self._serializer = URLSafeSerializer(
            secret, salt="taskyard-cursor", signer_kwargs={"digest_method": hashlib.sha256}
        )

    def encode(self, position: dict[str, Any]) -> str:
        return self._serializer.dumps(position)

    def decode(self, cursor: str) -> dict[str, Any]:
        try:
            position = self._serializer.loads(cursor)
        except BadData as error:  # a bad signature, or a payload that isn't ours
            raise InvalidCursor() from error
        if not isinstance(position, dict):
            raise InvalidCursor()
        return position
