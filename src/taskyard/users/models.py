from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Index, String, Uuid
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from taskyard.db import Base, UTCDateTime, str_enum, utc_now
from taskyard.identity.roles import Role


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.USER)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Whether notification emails go out to this person at all.
    notifications: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    __table_args__ = (Index("ix_users_created_at", "created_at"),)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def mark_changed(self) -> None:
        """Move `updated_at` strictly forward, whatever the clock of the instance that wrote it
        last: the identity store orders account states by it (a later change must win)."""
        self.updated_at = max(utc_now(), self.updated_at + timedelta(microseconds=1))
