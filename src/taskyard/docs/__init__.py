"""Swagger UI at /api-docs, served entirely from installed files: it works with no internet."""
