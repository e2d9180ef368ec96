"""Split mode: the task service's copy of personal API tokens (their hashes, never the tokens).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token_copies",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_token_copies")),
        sa.UniqueConstraint("token_id", name=op.f("uq_api_token_copies_token_id")),
    )
    op.create_index(
        op.f("ix_api_token_copies_user_id"), "api_token_copies", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_api_token_copies_user_id"), table_name="api_token_copies")
    op.drop_table("api_token_copies")
