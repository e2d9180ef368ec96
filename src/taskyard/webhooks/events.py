"""The events about webhooks, and what each carries."""

from __future__ import annotations

WEBHOOK_DISABLED = "webhook.disabled"  # {webhook_id}: its project's admins are mailed
WEBHOOK_DISABLED_NOTICE = "webhook.disabled_notice"  # {webhook_id, recipient_id}: one per admin
