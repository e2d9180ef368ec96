"""The events that leave the request path, and what each one carries."""

from __future__ import annotations

USER_REGISTERED = "user.registered"
TASK_ASSIGNED = "task.assigned"
