"""The events that leave the request path, and what each one carries."""

from __future__ import annotations

USER_REGISTERED = "user.registered"  # {user_id}
TASK_ASSIGNED = "task.assigned"  # {task_id, assignee_id}
TASK_DUE_SOON = "task.due_soon"  # {task_id, due_date, recipient_id}: one per recipient
EXPORT_REQUESTED = "export.requested"  # {export_id}
EXPORT_READY = "export.ready"  # {export_id}
