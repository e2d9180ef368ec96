"""The task list, the busiest read, answered without routing.

A list the cache could not answer went through the router's match and a tree of ten dependants
(the query, the caller, the session, the services, the cache), resolved afresh per request: a
fifth of its CPU. This layer sits where the router would be reached, inside the error,
compression and conditional-request layers, and calls the same route function with the same
parts, each read once: the caller the caller layer vouched for, the query validated by the same
model, the same unit of work. So its answers are the route's, byte for byte.

Anything out of the plain shape (a repeated, empty or unknown parameter, a query the model
refuses, a caller only the accounts can vouch for) goes on to the router, which answers it, and
its errors, exactly as before.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from taskyard.cache.early import TASKS_PATH
from taskyard.db.unit_of_work import request_session
from taskyard.edge.asgi import HttpMiddleware
from taskyard.edge.observability import name_route
from taskyard.errors import AppError, app_error_response
from taskyard.identity import caller_of
from taskyard.services import services_of
from taskyard.tasks.dependencies import get_task_service
from taskyard.tasks.router import list_tasks
from taskyard.tasks.schemas import TaskListQuery

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


class DirectTaskListMiddleware(HttpMiddleware):
    def applies_to(self, scope: Scope) -> bool:
        return bool(scope["method"] == "GET" and scope["path"] == TASKS_PATH)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = caller_of(scope).principal
        query = plain_list_query(scope["query_string"]) if principal is not None else None
        if principal is None or query is None:
            await self.app(scope, receive, send)
            return
        name_route(scope, TASKS_PATH)
        request = Request(scope, receive)
        request.state.user_id = str(principal.user_id)  # for the access log line
        services = services_of(request)
        try:
            async with request_session(request) as session:
                service = await get_task_service(services, session)
                response = await list_tasks(
                    query, principal, service, services.response_cache, request
                )
        except AppError as error:
            response = app_error_response(request, error)
        await response(scope, receive, send)
