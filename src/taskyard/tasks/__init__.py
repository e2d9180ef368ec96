"""Tasks: each person's own, with filters, stats and an admin-wide view."""
