"""The events about exports, and what each carries."""

from __future__ import annotations

EXPORT_REQUESTED = "export.requested"  # {export_id}
EXPORT_READY = "export.ready"  # {export_id}
