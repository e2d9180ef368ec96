"""Labels, comments and activity on tasks; a board position and a repeat rule on each task.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from fractional_indexing import generate_key_between

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS = ("created", "changed", "moved", "assigned", "labelled", "commented", "completed")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(column: str, table: str, owner: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{owner}_{column}_{table}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        _timestamp("created_at"),
        _fk("project_id", "projects", "labels"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    op.create_index(op.f("ix_labels_project_id"), "labels", ["project_id"])
    op.create_table(
        "task_labels",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        _fk("task_id", "tasks", "task_labels"),
        _fk("label_id", "labels", "task_labels"),
        sa.PrimaryKeyConstraint("task_id", "label_id", name=op.f("pk_task_labels")),
    )
    op.create_index(op.f("ix_task_labels_label_id"), "task_labels", ["label_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.String(length=5000), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _fk("task_id", "tasks", "comments"),
        _fk("author_id", "users", "comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_task_created", "comments", ["task_id", "created_at", "id"])
    action = sa.Enum(*_ACTIONS, name="action", native_enum=False, create_constraint=True, length=16)
    op.create_table(
        "task_activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", action, nullable=False),
        sa.Column("field", sa.String(length=30), nullable=True),
        sa.Column("old_value", sa.String(length=1000), nullable=True),
        sa.Column("new_value", sa.String(length=1000), nullable=True),
        _timestamp("created_at"),
        _fk("task_id", "tasks", "task_activity"),
        _fk("actor_id", "users", "task_activity", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_activity")),
    )
    op.create_index(op.f("ix_task_activity_actor_id"), "task_activity", ["actor_id"])
    op.create_index(
        "ix_task_activity_task_created",
        "task_activity",
        ["task_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
    )

    with op.batch_alter_table("tasks") as tasks:
        tasks.add_column(sa.Column("position", sa.String(length=64), nullable=True))
        tasks.add_column(sa.Column("repeat_every", sa.Integer(), nullable=True))
        tasks.add_column(
            sa.Column("label_ids_text", sa.String(length=1850), nullable=False, server_default="")
        )
        # Its check comes once the column is there (SQLite rebuilds the table for it).
        tasks.add_column(sa.Column("repeat_unit", sa.String(length=16), nullable=True))
    # Existing tasks: each project's in the order they were made, before anything made later.
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, project_id FROM tasks ORDER BY project_id, created_at, id")
    ).all()
    last: dict[object, str | None] = {}
    for task_id, project_id in rows:
        key = generate_key_between(last.get(project_id), None)
        last[project_id] = key
        connection.execute(
            sa.text("UPDATE tasks SET position = :key WHERE id = :id"), {"key": key, "id": task_id}
        )
    with op.batch_alter_table("tasks") as tasks:
        tasks.alter_column("position", existing_type=sa.String(length=64), nullable=False)
        tasks.create_check_constraint(
            op.f("ck_tasks_repeatunit"), "repeat_unit IN ('day', 'week', 'month')"
        )
    op.create_index(
        "ix_tasks_project_status_position", "tasks", ["project_id", "status", "position", "id"]
    )
    op.create_index("uq_tasks_project_position", "tasks", ["project_id", "position"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_tasks_project_position", table_name="tasks")
    op.drop_index("ix_tasks_project_status_position", table_name="tasks")
    with op.batch_alter_table("tasks") as tasks:
        tasks.drop_constraint(op.f("ck_tasks_repeatunit"), type_="check")
        tasks.drop_column("repeat_unit")
        tasks.drop_column("label_ids_text")
        tasks.drop_column("repeat_every")
        tasks.drop_column("position")
    op.drop_index("ix_task_activity_task_created", table_name="task_activity")
    op.drop_index(op.f("ix_task_activity_actor_id"), table_name="task_activity")
    op.drop_table("task_activity")
    op.drop_index("ix_comments_task_created", table_name="comments")
    op.drop_table("comments")
    op.drop_index(op.f("ix_task_labels_label_id"), table_name="task_labels")
    op.drop_table("task_labels")
    op.drop_index(op.f("ix_labels_project_id"), table_name="labels")
    op.drop_table("labels")
