"""Reads on a replica that move to the primary when the replica fails mid-request."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
)

from taskyard.db.engines import is_outage


class ReplicaSession(AsyncSession):
    """Reads on a replica; if the replica fails mid-read, the session moves to the primary
    and reads again, once. Safe because reads run in autocommit: no transaction is lost, and
    each statement takes its own snapshot anyway."""

    primary: AsyncEngine | None = None
    on_failure: Callable[[BaseException], None] | None = None

    async def _move_to_primary(self, error: BaseException) -> bool:
        if self.primary is None or not is_outage(error):
            return False
        primary, self.primary = self.primary, None  # once: the primary's failures are its own
        with contextlib.suppress(Exception):  # gives the broken connection back
            await self.rollback()
        self.sync_session.bind = primary.sync_engine
        if self.on_failure is not None:
            self.on_failure(error)
        return True

    async def read_with_failover(
        self, read: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return await read(*args, **kwargs)
        except Exception as error:
            if not await self._move_to_primary(error):
                raise
        return await read(*args, **kwargs)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:  # scalars() reads through it
        return await self.read_with_failover(super().execute, *args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self.read_with_failover(super().scalar, *args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self.read_with_failover(super().get, *args, **kwargs)
