"""Which domains' events and periodic jobs a process carries out. The one place, with the app
factory, that knows every domain: the job plumbing knows none."""

from __future__ import annotations

from taskyard.config import Settings
from taskyard.exports import jobs as export_jobs
from taskyard.jobs.registry import EventRegistry
from taskyard.tasks import notifications as task_notifications
from taskyard.users import notifications as user_notifications
from taskyard.users import read_model


def event_registry(settings: Settings) -> EventRegistry:
    """The monolith carries out everything; split, the auth service sends the welcome mail and
    the task service keeps its copy of people and does the rest."""
    registry = EventRegistry()
    if settings.service in ("all", "auth"):
        user_notifications.register(registry)
    if settings.service in ("all", "tasks"):
        task_notifications.register(registry)
        export_jobs.register(registry, public_url=settings.public_url)
    if settings.service == "tasks":
        read_model.register(registry)
    return registry
