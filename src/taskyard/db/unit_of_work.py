"""The per-request unit of work: one session per request, committed when the handler succeeds
and rolled back when it fails, before the response is sent; and what runs after a commit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import (
    AsyncSession,
)

from taskyard.access_tokens import claims_in
from taskyard.db.database import Database
from taskyard.db.engines import is_outage
from taskyard.db.native import check_whole_write
from taskyard.edge.metrics import DB_READS
from taskyard.errors import AppError, ServiceUnavailable
from taskyard.logging import get_logger

logger = get_logger("taskyard.db")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriterMemory(Protocol):
    async def mark(self, user_id: str) -> None: ...

    async def wrote_recently(self, user_id: str) -> bool: ...


class RequestStorage(Protocol):
    """What a request's session needs of the process's services (`app.state.services`)."""

    @property
    def database(self) -> Database: ...

    @property
    def recent_writers(self) -> WriterMemory: ...


async def _remember_writer(request: Request, services: RequestStorage) -> None:
    user_id = getattr(request.state, "user_id", None)
    if user_id is not None:
        await services.recent_writers.mark(user_id)


AfterCommit = Callable[[], Awaitable[object]]


_AFTER_COMMIT = "taskyard_after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once this request's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def commit(session: AsyncSession) -> None:
    """Commit, then run what `after_commit` registered: a request's session, or a job's."""
    if session.in_transaction():  # a request that sent no SQL (a cache hit) has nothing to end
        await check_whole_write(session)
        await session.commit()
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            await callback()
        except Exception:  # the write is durable already; a failed follow-up must not undo it
            logger.exception("after-commit step failed")


async def _open_session(request: Request, services: RequestStorage) -> AsyncSession:
    """Writes and transactions go to the primary; safe reads to a replica when there is one,
    except for a caller who wrote a moment ago (read-your-writes)."""
    database = services.database
    if request.method not in SAFE_METHODS:
        return database.session(write=True)
    if not database.replicas:
        return database.session(write=False)
    claims = claims_in(request.scope)
    user_id = None if claims is None else str(claims.user_id)
    if user_id is not None and await services.recent_writers.wrote_recently(user_id):
        DB_READS.labels(target="primary_read_your_writes").inc()
        return database.session(write=False)
    return await database.replica_session()


@contextlib.asynccontextmanager
async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the handler succeeds, roll back when it fails.
    A database that can't be reached makes the request a 503, logged once per outage."""
    services: RequestStorage = request.app.state.services
    database = services.database
    session = await _open_session(request, services)
    if request.method not in SAFE_METHODS and database.replicas:
        after_commit(session, lambda: _remember_writer(request, services))
    try:
        try:
            yield session
        except AppError as error:
            if error.persist_changes:
                await commit(session)
            elif session.in_transaction():
                await session.rollback()
            raise
        except BaseException:
            with contextlib.suppress(Exception):  # in an outage the rollback fails too
                await session.rollback()
            raise
        else:
            reached_database = session.in_transaction()
            await commit(session)
            if reached_database:
                database.outage.record_success()
    except Exception as error:
        if isinstance(error, AppError) or not is_outage(error):
            raise
        database.outage.record_failure("request", error)
        raise ServiceUnavailable() from error
    finally:
        session.info.pop(_AFTER_COMMIT, None)
        with contextlib.suppress(Exception):
            await session.close()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request_session(request) as session:
        yield session


# "function" scope: commit before the response leaves, so an acknowledged write is durable.
DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]
