"""Which domains' events and periodic jobs a process carries out. The one place, with the app
factory, that knows every domain: the job plumbing knows none."""

from __future__ import annotations

from taskyard.config import Settings
from taskyard.exports import jobs as export_jobs
from taskyard.jobs.registry import EventRegistry
from taskyard.tasks import notifications as task_notifications
from taskyard.users import notifications as user_notifications


def event_registry(settings: Settings) -> EventRegistry:
    registry = EventRegistry()
    user_notifications.register(registry)
    task_notifications.register(registry)
    export_jobs.register(registry, public_url=settings.public_url)
    return registry
