"""The events about tasks, and what each carries."""

from __future__ import annotations

TASK_ASSIGNED = "task.assigned"  # {task_id, assignee_id}
TASK_DUE_SOON = "task.due_soon"  # {task_id, due_date, recipient_id}: one per recipient
