"""Projects, their members and teams; every person's personal project, and every task in one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = ("viewer", "editor", "admin", "owner")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _role() -> sa.Column[object]:
    role = sa.Enum(
        *_ROLES, name="projectrole", native_enum=False, create_constraint=True, length=16
    )
    return sa.Column("role", role, nullable=False)


def _cascading(column: str, table: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{owner}_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("is_inbox", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _role(),
        _timestamp("created_at"),
        _cascading("project_id", "projects", "project_members"),
        _cascading("user_id", "users", "project_members"),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    op.create_index(op.f("ix_project_members_user_id"), "project_members", ["user_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("is_manager", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _cascading("team_id", "teams", "team_members"),
        _cascading("user_id", "users", "team_members"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_user_id"), "team_members", ["user_id"])
    op.create_table(
        "project_teams",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        _role(),
        _timestamp("created_at"),
        _cascading("project_id", "projects", "project_teams"),
        _cascading("team_id", "teams", "project_teams"),
        sa.PrimaryKeyConstraint("project_id", "team_id", name=op.f("pk_project_teams")),
    )
    op.create_index(op.f("ix_project_teams_team_id"), "project_teams", ["team_id"])

    # Every existing person's personal project (their own id), owned by them, and their tasks in it.
    op.execute(
        "INSERT INTO projects (id, name, description, is_inbox, created_at, updated_at) "
        "SELECT id, 'Inbox', '', TRUE, created_at, created_at FROM users"
    )
    op.execute(
        "INSERT INTO project_members (project_id, user_id, role, created_at) "
        "SELECT id, id, 'owner', created_at FROM users"
    )
    with op.batch_alter_table("tasks") as tasks:
        tasks.add_column(sa.Column("project_id", sa.Uuid(), nullable=True))
    op.execute("UPDATE tasks SET project_id = created_by_id")
    with op.batch_alter_table("tasks") as tasks:
        tasks.alter_column("project_id", existing_type=sa.Uuid(), nullable=False)
        tasks.create_foreign_key(
            op.f("fk_tasks_project_id_projects"),
            "projects",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_tasks_project_created",
        "tasks",
        ["project_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_project_created", table_name="tasks")
    with op.batch_alter_table("tasks") as tasks:
        tasks.drop_constraint(op.f("fk_tasks_project_id_projects"), type_="foreignkey")
        tasks.drop_column("project_id")
    op.drop_index(op.f("ix_project_teams_team_id"), table_name="project_teams")
    op.drop_table("project_teams")
    op.drop_index(op.f("ix_team_members_user_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index(op.f("ix_project_members_user_id"), table_name="project_members")
    op.drop_table("project_members")
    op.drop_table("projects")
