from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from taskyard.db import Base, UTCDateTime, utc_now


class OutboxEvent(Base):
    """An event written in the same transaction as the change that caused it.

    A relay claims it with a lease (`claimed_until`), hands it on, and only then deletes it:
    a relay that dies mid-way leaves it to be claimed again, never lost. So the table holds only
    what is still to go (and what was given up on), however long the service runs, and a relay's
    claim reads only that.
    """

    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set when the embedded relay gave up after its last attempt: out of the way until replayed.
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (Index("ix_outbox_events_pending", "dead_at", "created_at"),)


class ProcessedEvent(Base):
    """One row per event whose effects happened: a redelivered event finds it and does nothing."""

    __tablename__ = "processed_events"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MailClaim(Base):
    """A mail on its way out for one event: claimed, with a lease, before it is sent and removed
    once the event is recorded as processed. Two copies of an event handled side by side (a
    relay that republished, a redelivery) find the claim, and only one sends."""

    __tablename__ = "mail_claims"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    claimed_until: Mapped[datetime] = mapped_column(UTCDateTime)
