"""GET /api/v1/events/stream: the gateway's live events as server-sent events, for any signed-in caller.

The edge only translates: who calls (the bearer token, like every /api/v1 route, or a stream ticket from
`POST /api/v1/events/tickets` in `?ticket=` for a browser's EventSource, see tickets.py), where they resume from
(`Last-Event-ID`), the caps (429 per user, 503 in total, in the one error shape), then frames from the hub until the
client goes away or the process stops. Rules of visibility and shape are in domain.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field
from starlette.background import BackgroundTask

from opsdesk_shared.localtime import to_local

from ..domain import Actor
from ..entrypoints.deps import actor_of, adapters
from ..identity import Identity
from ..identity.principal import Principal
from . import metrics
from .domain import EVENT_NAMES, Resume, heartbeat_frame, ready_frame, reload_frame, view_of
from .hub import END, Listener, LiveHub
from .tickets import TTL_S, StreamTickets

router = APIRouter(prefix="/api/v1")
# Frames written together when a client's queue holds several (bounded, so one write stays small).
MAX_COALESCED = 64

EXAMPLE = (
    "retry: 3000\n\n"
    "id: 4180\nevent: ready\ndata: {\"id\":\"4180\",\"resumed\":false}\n\n"
    "id: 4182\nevent: ticket.created\n"
    "data: {\"id\":\"4182\",\"type\":\"ticket.created\",\"ticket_id\":\"0b6f4c1e-7d1a-4f3e-9a55-2f0c8e4d9b21\","
    "\"number\":\"INC-2026-000123\",\"status\":\"new\",\"version\":1,\"changed\":{\"title\":\"三楼打印机卡纸\","
    "\"channel\":\"hotline\",\"reported_at\":\"2026-11-30T09:12:00+08:00\"},\"occurred_at\":\"2026-11-30T09:12:03.120000+08:00\"}\n\n"
    ": keep-alive\n\n"
    "id: 4185\nevent: ticket.status_changed\n"
    "data: {\"id\":\"4185\",\"type\":\"ticket.status_changed\",\"ticket_id\":\"0b6f4c1e-7d1a-4f3e-9a55-2f0c8e4d9b21\","
    "\"number\":\"INC-2026-000123\",\"status\":\"assigned\",\"version\":2,\"changed\":{\"old_status\":\"new\","
    "\"new_status\":\"assigned\",\"changed_at\":\"2026-11-30T09:12:04.002000+08:00\"},\"occurred_at\":\"2026-11-30T09:12:04.002000+08:00\"}\n\n"
)

DESCRIPTION = f"""Live events for the signed-in caller, as [server-sent events](https://html.spec.whatwg.org/multipage/server-sent-events.html)
(`text/event-stream`), fed from the event bus. Authenticate like every route (`Authorization: Bearer ...`), or,
from a browser's `EventSource` (which cannot set headers), with `?ticket=` from `POST /api/v1/events/tickets`: a
ticket opens streams as you for {TTL_S} seconds after it is issued and is refused everywhere else (401 when missing,
expired, forged or not a ticket). A stream opened in time stays open; to reopen later, get a fresh ticket.

**What you receive** is filtered by what you may see: the desk (agent, manager, admin) and auditors every event; an
engineer the events of tickets they hold and of their own assignments; a requester the events of their own tickets,
without work notes, dispatch's reasons, SLA or escalation events.

**Each message** has `id:` (the event's position in the bus stream; increasing), `event:` (its type) and one line of
JSON `data:` with `id`, `type`, `ticket_id`, `number`, `status` and `version` (the ticket as the gateway read it when
the event arrived; read the ticket for everything else), `changed` (what this event changed, by field) and
`occurred_at`. Times are local, with their offset. Types: {", ".join(f"`{n}`" for n in EVENT_NAMES)}.

Control messages: `ready` first (its `id` is the current position: remember it), `reload` when events you missed
are no longer kept (`reason`: `too_old`, `unknown_id`) or you fell too far behind (`too_slow`, the stream then ends):
read your tickets again, and go on from its `id`. A comment line `: keep-alive` comes every 15 seconds of quiet.

**Resuming**: reconnect with `Last-Event-ID` (browsers' EventSource send it by themselves), or `?after=`, set to the
last `id` you received; the events after it that you may see come first, then live ones. Ids are the bus stream's
sequences: a gateway reads the stream's recent events back from JetStream when it starts, so a reconnect after a
gateway restart (or to another replica) resumes too; an id older than that gets `reload`.

**Limits**: a few open streams per user (429 beyond) and a cap per gateway (503 beyond), both with `Retry-After`.
"""


class StreamTicket(BaseModel):
    ticket: str = Field(description="Put it in `GET /api/v1/events/stream?ticket=...`; it opens streams as you only")
    expires_at: AwareDatetime = Field(description="Streams must be opened before this (local time with offset)")


def _identity(request: Request) -> Identity:
    identity: Identity = adapters(request).identity
    return identity


def _tickets(request: Request) -> StreamTickets:
    identity = _identity(request)
    return StreamTickets(identity.signer, identity.authenticator, identity.keys)


async def stream_caller(
    request: Request,
    ticket: Annotated[str | None, Query(description="A ticket from `POST /api/v1/events/tickets` (instead of a bearer token)")] = None,
) -> Actor:
    """The caller of the stream: by its ticket when one is given (the bearer header is then not read), else by the
    bearer credential as on every route. The ticket's value is checked here, never by the validator, so a refusal
    cannot echo it back."""
    if ticket is None:
        return actor_of(await adapters(request).authenticator.principal(request), request)
    return actor_of(await _tickets(request).principal(ticket), request)


async def principal(request: Request) -> Principal:
    return await _identity(request).authenticator.principal(request)


@router.post(
    "/events/tickets",
    tags=["events"],
    status_code=status.HTTP_201_CREATED,
    response_model=StreamTicket,
    summary="A short-lived ticket to open the live event stream from a browser",
    description=f"""For any signed-in caller: a ticket that opens `GET /api/v1/events/stream?ticket=...` as you, with
what you may see and your caps, for {TTL_S} seconds after issue. An `EventSource` cannot send `Authorization`, so a
web page's server asks for a ticket with its bearer token and gives the page only the ticket. Every other route
refuses it; the gateway does not log it.""",
    responses={401: {"description": "No valid credentials"}},
)
async def stream_ticket(request: Request, caller: Annotated[Principal, Depends(principal)], response: Response) -> StreamTicket:
    response.headers["Cache-Control"] = "no-store"
    issued = _tickets(request).issue(caller)
    return StreamTicket(ticket=issued.ticket, expires_at=to_local(issued.expires_at))


def _hub(request: Request) -> LiveHub:
    """The hub main wires at start (app.state.live); tests set their own."""
    hub = getattr(request.app.state, "live", None)
    if not isinstance(hub, LiveHub):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the live event stream is not running at this gateway",
                            headers={"Retry-After": "30"})
    return hub


async def frames(hub: LiveHub, listener: Listener, resume: Resume, position: int, *, resumed: bool) -> AsyncIterator[bytes]:
    """What one client is written, in order: retry hint, ready or reload, what it missed, then live frames and
    heartbeats, until it leaves, falls behind, or the process stops."""
    try:
        yield f"retry: {hub.retry_ms}\n\n".encode()
        if resume.reload is not None:
            yield reload_frame(reason=resume.reload, position=position)
        else:
            yield ready_frame(position=position, resumed=resumed)
        for event in resume.missed:
            missed = event.frame(view_of(listener.actor))
            if missed is not None:
                yield missed
        while not hub.closing.is_set():
            if listener.overflowed:
                metrics.dropped_slow.inc()
                yield reload_frame(reason="too_slow", position=hub.ring.head)
                return
            try:
                async with asyncio.timeout(hub.heartbeat_s):
                    frame = await listener.queue.get()
            except TimeoutError:
                yield heartbeat_frame()
                continue
            if frame == END:
                return
            # Under load several frames wait: one write for all of them (a write per frame is most of the cost).
            waiting = [frame]
            while not listener.queue.empty() and len(waiting) < MAX_COALESCED:
                more = listener.queue.get_nowait()
                if more == END:
                    yield b"".join(waiting)
                    return
                waiting.append(more)
            yield b"".join(waiting) if len(waiting) > 1 else frame
    finally:
        _close(hub, listener)


def _close(hub: LiveHub, listener: Listener) -> None:
    if listener in hub.listeners:
        hub.leave(listener)
        metrics.streams_open.dec()


@router.get(
    "/events/stream",
    tags=["events"],
    summary="Live events for the caller (server-sent events); resume with Last-Event-ID",
    description=DESCRIPTION,
    response_class=StreamingResponse,
    responses={
        200: {"description": "An endless `text/event-stream`", "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EXAMPLE}}},
        401: {"description": "No valid credentials: no bearer token, or a ticket that is missing, expired, forged or not a ticket"},
        429: {"description": "Too many open streams for this user; `Retry-After` says when to try again"},
        503: {"description": "The gateway has as many open streams as it takes, or its stream is not running; `Retry-After`"},
    },
)
async def event_stream(
    request: Request,
    actor: Annotated[Actor, Depends(stream_caller)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40, description="The last `id` you received")] = None,
    after: Annotated[str | None, Query(max_length=40, pattern=r"^\d+$", description="As Last-Event-ID, for clients that cannot set headers")] = None,
) -> StreamingResponse:
    hub = _hub(request)
    refused = hub.open(actor)
    if refused == "user":
        metrics.streams_refused.labels("user").inc()
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"at most {hub.limiter.per_user} open event streams per user",
                            headers={"Retry-After": "10"})
    if refused == "total":
        metrics.streams_refused.labels("total").inc()
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this gateway has as many open event streams as it takes",
                            headers={"Retry-After": "5"})
    since = last_event_id if last_event_id is not None else after
    listener, resume, position = hub.join(actor, since)
    metrics.streams_open.inc()
    return StreamingResponse(
        frames(hub, listener, resume, position, resumed=since is not None),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        # Should the body never be iterated (the client left at once), the stream is still counted off.
        background=BackgroundTask(_close, hub, listener),
    )
