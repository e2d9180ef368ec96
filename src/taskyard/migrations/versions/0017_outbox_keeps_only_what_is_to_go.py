"""The outbox keeps only what is still to go: published events are deleted, not marked.

Every event ever written stayed, marked `published_at`, and each relay's claim read past the
index entries of all of them (3 ms a claim after some thousands of writes, growing without end).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM outbox_events WHERE published_at IS NOT NULL")
    op.drop_index("ix_outbox_events_pending", table_name="outbox_events")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("published_at")
    op.create_index("ix_outbox_events_pending", "outbox_events", ["dead_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_events_pending", table_name="outbox_events")
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_events_pending", "outbox_events", ["published_at", "created_at"])
