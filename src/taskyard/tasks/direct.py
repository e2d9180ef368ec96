"""The task list and the create, the busiest read and write, answered without routing.

A request went through the router's match and a tree of dependants (the query or body, the
caller, the session, the services, the cache, the idempotency key), resolved afresh per
request: a fifth of an uncached list's CPU, a seventh of a create's. This layer sits where the
router would be reached, inside the error, compression and conditional-request layers, and
calls the same route functions with the same parts, each read once: the caller the caller layer
vouched for, the query or body validated by the same model, the same unit of work. So its
answers are the routes', byte for byte.

Anything out of the plain shape (a repeated, empty or unknown parameter, a query or body the
model refuses, a body that isn't declared JSON of a declared length, a caller only the accounts
can vouch for) goes on to the router, which answers it, and its errors, exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from taskyard.cache.early import TASKS_PATH
from taskyard.db.unit_of_work import request_session
from taskyard.edge.asgi import HttpMiddleware
from taskyard.edge.observability import name_route
from taskyard.errors import AppError, app_error_response
from taskyard.idempotency.dependencies import get_idempotency
from taskyard.identity import Principal, caller_of
from taskyard.services import Services, services_of
from taskyard.tasks.dependencies import get_task_service
from taskyard.tasks.router import create_task, list_tasks
from taskyard.tasks.schemas import TaskCreate, TaskListQuery

_PARAMETERS = frozenset(field.alias or name for name, field in TaskListQuery.model_fields.items())


def plain_list_query(query_string: bytes) -> TaskListQuery | None:
    """The list's query when each parameter is a known one, given once and not empty, and the
    model takes it; otherwise None (the router answers)."""
    given = QueryParams(query_string).multi_items()
    values = dict(given)
    if len(values) != len(given) or not _PARAMETERS.issuperset(values):
        return None
    if not all(values.values()):
        return None
    try:
        return TaskListQuery.model_validate(values)
    except ValueError:  # pydantic's ValidationError: the router words the 400
        return None


def declares_json_body(scope: Scope) -> bool:
    """Whether the request declares a JSON body (`application/json`, any parameters, as FastAPI
    reads one) of one length: a body the layers outside have already held to the size limit."""
    lengths = media_types = 0
    for name, value in scope["headers"]:
        if name == b"content-length":
            lengths += 1
        elif name == b"transfer-encoding":
            return False
        elif name == b"content-type":
            media_types += 1
            if value.partition(b";")[0].strip().lower() != b"application/json":
                return False
    return lengths == media_types == 1


def plain_create_body(body: bytes) -> TaskCreate | None:
    """The create's body when it is JSON the model takes, read as FastAPI reads it (`json`,
    then the model on the Python value); otherwise None (the router answers)."""
    try:
        return TaskCreate.model_validate(json.loads(body))
    except ValueError:  # a JSON or pydantic error: the router words the 400
        return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for the router, handing back the body this layer has read."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


Respond = Callable[[Request, AsyncSession, Services], Awaitable[Response]]


class DirectTasksMiddleware(HttpMiddleware):
    def applies_to(self, scope: Scope) -> bool:
        return bool(scope["path"] == TASKS_PATH and scope["method"] in ("GET", "POST"))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = caller_of(scope).principal
        if principal is None:
            await self.app(scope, receive, send)
        elif scope["method"] == "GET":
            await self._list(principal, scope, receive, send)
        else:
            await self._create(principal, scope, receive, send)

    async def _list(self, principal: Principal, scope: Scope, receive: Receive, send: Send) -> None:
        query = plain_list_query(scope["query_string"])
        if query is None:
            await self.app(scope, receive, send)
            return

        async def respond(request: Request, session: AsyncSession, services: Services) -> Response:
            service = await get_task_service(services, session)
            return await list_tasks(query, principal, service, services.response_cache, request)

        await _answer(principal, scope, receive, send, respond)

    async def _create(
        self, principal: Principal, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if not declares_json_body(scope):
            await self.app(scope, receive, send)
            return
        try:
            body = await Request(scope, receive).body()
        except ClientDisconnect:
            return  # nobody is left to answer
        create = plain_create_body(body)
        if create is None:
            await self.app(scope, _replaying(body, receive), send)
            return

        async def respond(request: Request, session: AsyncSession, services: Services) -> Response:
            key = request.headers.get("idempotency-key")
            idempotency = await get_idempotency(request, services, session, key)
            service = await get_task_service(services, session)
            return await create_task(create, principal, service, request, idempotency)

        await _answer(principal, scope, receive, send, respond)


async def _answer(
    principal: Principal, scope: Scope, receive: Receive, send: Send, respond: Respond
) -> None:
    """The route's answer, made in the request's unit of work, its errors worded as theirs."""
    name_route(scope, TASKS_PATH)
    request = Request(scope, receive)
    request.state.user_id = str(principal.user_id)  # for the access log line
    services = services_of(request)
    try:
        async with request_session(request) as session:
            response = await respond(request, session, services)
    except AppError as error:
        response = app_error_response(request, error)
    await response(scope, receive, send)
