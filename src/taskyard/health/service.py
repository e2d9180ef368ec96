from __future__ import annotations

import asyncio
from dataclasses import dataclass

from taskyard.db import Database

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ComponentState:
    status: str
    detail: str | None = None

    @property
    def is_up(self) -> bool:
        return self.status == "up"


async def check_database(database: Database) -> ComponentState:
    try:
        await asyncio.wait_for(database.ping(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return ComponentState("down", "timed out")
    except Exception as error:  # any failure means "not ready"; the reason is reported
        return ComponentState("down", type(error).__name__)
    return ComponentState("up")
