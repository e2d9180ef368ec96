"""The events about accounts, and what each carries."""

from __future__ import annotations

USER_REGISTERED = "user.registered"  # {user_id}
