"""The events about personal API tokens, told to split mode's task service."""

from __future__ import annotations

# {token_id, token_hash, session_id, user_id, scopes, expires_at}: never the token itself
TOKEN_ISSUED = "token.issued"  # noqa: S105 (an event name, not a secret)
TOKEN_REVOKED = "token.revoked"  # noqa: S105  {token_id}
