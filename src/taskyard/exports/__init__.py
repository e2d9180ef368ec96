"""Exports: a person's tasks (or, for admins, everyone's) as CSV or JSON, built by a job."""
