from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from taskyard.db import Base, UTCDateTime, utc_now


class IdempotencyRecord(Base):
    """A client's Idempotency-Key and the response its first request got, written in that
    request's own transaction: either both the write and its key are kept, or neither."""

    __tablename__ = "idempotency_keys"

    # Whose key: "user:<id>" for a signed-in caller, "address:<ip>" for an anonymous one.
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # HMAC of the method, the path and the parsed body: a reuse with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    # The response's body and headers, encrypted: a registration's answer carries tokens.
    sealed_response: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)
