"""`/api/v1/events`: the live event stream, and the tickets a browser opens it with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status
from sse_starlette import EventSourceResponse

from taskyard.errors import ValidationFailed, documented_errors
from taskyard.identity.caller import bearer_token
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.live.bus import parse_event_id
from taskyard.live.dependencies import HubDep, StreamClaims, TicketsDep
from taskyard.live.schemas import STREAM_DESCRIPTION, StreamEvent, StreamTicket
from taskyard.live.service import EventStream, SignedIn
from taskyard.schemas import DataEnvelope
from taskyard.services import ServicesDep

router = APIRouter(prefix="/events", tags=["events"])
EVENT_ID = r"^[0-9]{1,15}(-[0-9]{1,15})?$"  # what `parse_event_id` reads


@router.get(
    "",
    description=STREAM_DESCRIPTION,
    response_class=EventSourceResponse,
    responses={
        200: {
            "model": StreamEvent,  # puts the event's schemas among the document's
            "description": "The stream; each `data:` line is a `LiveEvent` (or a `Resync`)",
            # The docs layer moves the model's schema here (FastAPI files it under JSON).
            "content": {"text/event-stream": {}},
        },
        **documented_errors(400, 401, 403),
    },
)
async def stream_events(
    claims: StreamClaims,
    services: ServicesDep,
    hub: HubDep,
    last_event_id: Annotated[
        str | None,
        Header(pattern=EVENT_ID, description="The last event's id, when reconnecting"),
    ] = None,
    last_event_id_query: Annotated[
        str | None,
        Query(
            alias="lastEventId",
            pattern=EVENT_ID,
            description="`Last-Event-ID`, where no header can be sent",
        ),
    ] = None,
) -> EventSourceResponse:
    resume_from = last_event_id or last_event_id_query
    after = parse_event_id(resume_from)
    if resume_from and after is None:
        raise ValidationFailed("Last-Event-ID", "Must be an event id this stream sent")
    subscription = await hub.open(str(claims.user_id))
    try:
        catch_up = await hub.bus.since(after) if after is not None else None
    except BaseException:
        hub.close(subscription)
        raise
    stream = EventStream(
        hub,
        subscription,
        SignedIn(services, claims),
        heartbeat_seconds=services.settings.live_heartbeat_seconds,
    )
    # ping=0: the stream's own heartbeat sends the keep-alive comment and checks the caller.
    return EventSourceResponse(stream.events(catch_up), ping=0, sep="\n")


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    responses=documented_errors(401, 403),
)
async def issue_ticket(
    request: Request, _principal: CurrentPrincipal, tickets: TicketsDep
) -> DataEnvelope[StreamTicket]:
    """A single-use ticket that opens one event stream for the caller, within seconds."""
    token = bearer_token(request.scope)
    assert token is not None  # the caller was authenticated by it
    ticket = await tickets.issue(token)
    return DataEnvelope(data=StreamTicket(ticket=ticket, expires_in=tickets.lifetime_seconds))
