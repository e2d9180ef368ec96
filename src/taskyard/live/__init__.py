"""Live updates: what changed, for whom, as it happens (the event stream, and webhooks)."""
