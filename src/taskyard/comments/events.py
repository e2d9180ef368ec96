"""The events about comments, and what each carries."""

from __future__ import annotations

COMMENT_MENTIONED = "comment.mentioned"  # {comment_id, mentioned_id}: one per person named
