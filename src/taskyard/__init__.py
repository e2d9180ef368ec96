"""Taskyard: a task-management backend built to scale out."""

__version__ = "0.1.0"
