from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from taskyard.access_tokens import AccessClaims
from taskyard.db import is_outage
from taskyard.errors import AppError, ServiceUnavailable, Unauthorized
from taskyard.identity.caller import OutOfScope, caller_of
from taskyard.identity.dependencies import principal_for
from taskyard.identity.scopes import allows
from taskyard.live.hub import LiveHub
from taskyard.live.tickets import StreamTickets
from taskyard.services import ServicesDep


class TicketRefused(Unauthorized):
    message = "Stream ticket is unknown, used or expired"


async def stream_claims(
    request: Request,
    services: ServicesDep,
    ticket: Annotated[
        str | None,
        Query(
            max_length=100,
            description="A single-use ticket from `POST /events/tickets`, where no header can "
            "be sent (a browser's `EventSource`)",
        ),
    ] = None,
) -> AccessClaims:
    """The stream's caller, by their bearer token or by a ticket standing for one; checked
    like any request's (deactivated, revoked, out of scope)."""
    if ticket is None:
        caller = caller_of(request.scope)
        claims = caller.require_claims()
        principal = caller.principal
        known = caller.known
    else:
        token = await services.live.tickets.redeem(ticket)
        if token is None:
            raise TicketRefused()
        claims = await services.verifier.verify(token)
        if claims.scopes is not None and not allows(claims.scopes, "GET", request.url.path):
            raise OutOfScope()
        known = await services.identity.lookup(claims)
        principal = None
    if principal is None:
        # A session of its own, closed before the stream opens: a stream must never hold a
        # connection, nor wait for a second one (its person's projects) while holding one.
        try:
            async with services.database.session(write=False) as session:
                await principal_for(services, claims, known, session)
        except Exception as error:
            if isinstance(error, AppError) or not is_outage(error):
                raise
            raise ServiceUnavailable() from error
    request.state.user_id = str(claims.user_id)
    return claims


async def get_hub(services: ServicesDep) -> LiveHub:
    return services.live.hub


async def get_tickets(services: ServicesDep) -> StreamTickets:
    return services.live.tickets


StreamClaims = Annotated[AccessClaims, Depends(stream_claims)]
HubDep = Annotated[LiveHub, Depends(get_hub)]
TicketsDep = Annotated[StreamTickets, Depends(get_tickets)]
