"""The events about accounts, and what each carries."""

from __future__ import annotations

USER_REGISTERED = "user.registered"  # {user_id}
# What the task service's read model of people holds; `updated_at` orders changes, so a late
# redelivery never undoes a newer one.
USER_CHANGED = "user.changed"  # {user_id, name, email, role, active, notifications, updated_at}
USER_DELETED = "user.deleted"  # {user_id}
