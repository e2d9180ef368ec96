"""Webhooks: a project's live events, signed and sent to the URLs its admins register."""
