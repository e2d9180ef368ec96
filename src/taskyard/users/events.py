"""The events about accounts, and what each carries."""

from __future__ import annotations

USER_REGISTERED = "user.registered"  # {user_id}
# What the task service's read model of people holds; `updated_at` orders changes, so a late
# redelivery never undoes a newer one.
USER_CHANGED = "user.changed"  # {user_id, name, email, role, active, notifications, updated_at}
USER_DELETED = "user.deleted"  # {user_id}
# Login sessions ended (logout, a stolen refresh token, a deactivation): the task service keeps
# them until their access tokens have expired, so that no copy of Redis from before, nor one
# lost, can let those tokens back in.
SESSIONS_REVOKED = "sessions.revoked"  # {session_ids, until}
