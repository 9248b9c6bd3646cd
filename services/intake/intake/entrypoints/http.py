"""The desk's ticket API: translate requests to commands, call one use case, map the outcome to a status."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic_core import PydanticCustomError

from opsdesk_shared.contracts import Requester
from opsdesk_shared.contracts.calendars import TimerView
from opsdesk_shared.contracts.tickets import Channel, TicketStatus
from opsdesk_shared.localtime import FROM_HELP, TO_HELP, AwareDatetime, LocalDateFrom, LocalDateTo
from opsdesk_shared.roles import reads_everything

from .. import handover, known_tags, lifecycle, messages, metrics, service, service_record, timeline
from ..domain import (
    AGENCY_TZ,
    Actor,
    Assignee,
    AuditEntry,
    Authorization,
    Comment,
    NewTicket,
    PartUsed,
    ServiceRecord,
    Suggestion,
    Ticket,
)
from ..ports import TimersUnavailable
from ..priority import Level, Priority
from ..search import FILTER_FIELDS
from ..search import Query as SearchQuery
from ..texts import Said
from .all_errors import AllFieldErrors, refuse, ticket_problems
from .deps import Caller, IfMatch, Wired, correlation, now, set_etag

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text10k = Annotated[str, Field(min_length=1, max_length=10_000)]


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="Required from the desk; a requester's comes from their account",
    )
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]{3,40}$")
    email: EmailStr | None = None
    department: str | None = Field(default=None, max_length=100)


class TicketIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "title": "打印機卡紙",
                    "description": "三樓打印機卡紙,無法打印",
                    "requester": {"name": "王小明", "phone": "020-12345678", "department": "辦公室"},
                    "channel": "hotline",
                    "service_code": "RS-REPAIR",
                    "asset_tag": "GZ-2026-000001",
                    "impact": "medium",
                    "urgency": "high",
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    requester: RequesterIn | None = Field(
        default=None,
        description="Who reports it; required from the desk. A requester's own account fills their name, department "
        "and id (phone and e-mail are kept as the contact they give)",
    )
    channel: Channel
    service_code: str = Field(min_length=1, max_length=40, description="A code from GET /api/v1/catalog")
    asset_tag: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_/]*$")
    reported_at: AwareDatetime | None = Field(
        default=None, description="When the call came in (ISO 8601 with offset; at most 7 days back); defaults to now"
    )
    site: str | None = Field(default=None, max_length=100, description="Building where the requester is, e.g. 主樓")
    impact: Level | None = None
    urgency: Level | None = None
    priority: Priority | None = Field(default=None, description="Overrides impact x urgency; needs priority_reason")
    priority_reason: str | None = Field(default=None, min_length=1, max_length=500)
    major_incident: bool = False
    requester_id: str | None = Field(default=None, max_length=64, description="The requester's user name, when they have one")
    desk_first: bool | None = Field(
        default=None,
        description="Keep the ticket with the desk for remote guidance before dispatch assigns: until an agent sends it "
        "on (POST /tickets/{id}/dispatch), resolves it at the desk, or the guidance window (5 minutes) runs out. "
        "Omitted: as the catalog service says (its desk_first). The desk decides; requesters cannot set it",
    )
    emergency: bool = Field(
        default=False,
        description="Emergency work of a service that requires the agency's authorization: dispatched at once, the "
        "agency's authorization due within the SLA monitor's `authorization` clock. The desk decides; requesters cannot set it",
    )


class TicketSummary(BaseModel):
    id: str
    number: str
    title: str
    status: TicketStatus
    priority: str
    ticket_type: str
    service_code: str
    channel: str
    major_incident: bool
    asset_tag: str | None
    requester_name: str
    department: str | None
    assignee_name: str | None
    assignee_id: str | None = Field(default=None, description="The engineer holding it (roster id); null when nobody does")
    desk_first: bool = Field(default=False, description="Recorded for the desk's remote guidance first")
    held_at_desk: bool = Field(default=False, description="Desk-first, new and not yet sent to dispatch: the desk holds it")
    held_until: datetime | None = Field(
        default=None, description="While held at the desk: when the guidance window runs out and it goes to dispatch",
    )
    review: Literal["pending", "approved", "returned"] | None = Field(
        default=None, description="The service record's review: pending (waiting for the desk), approved, returned; null: no record",
    )
    handled_by: str | None = Field(
        default=None, description="The desk person (agent or admin) who last acted on it: took the call and recorded it, "
        "changed its state, replied or noted, sent it on, resolved it at the desk or reviewed its record. Automatic "
        "acts, API keys, engineers and requesters leave it unchanged. Null for requesters",
    )
    handled_by_name: str | None = None
    pending_reason: Literal["requester", "vendor", "parts"] | None = None
    authorization_state: Literal["awaiting", "approved", "declined"] | None = Field(
        default=None, description="The agency's authorization of its work, when its service requires one",
    )
    emergency: bool = Field(default=False, description="Emergency work: started first, the agency's decision due after")
    reported_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int


class AssigneeOut(Assignee):
    """The assignee as the caller may read it: staff see dispatch's `reason`, a person's `note`, who decided and why
    the engineer was withdrawn; requesters see none of these (null), only who, when, the acceptance and the ETA."""

    notice: str | None = Field(
        default=None, description="What the requester is told about who holds the ticket, in the requester's language"
    )


class TicketOut(BaseModel):
    id: str
    number: str
    version: int
    status: TicketStatus
    allowed_transitions: list[str] = Field(
        description="States the caller may move this ticket to next: the transition table filtered by their role and "
        "relation to the ticket (a requester is offered cancel before work starts, close and reopen; `assigned` is dispatch's)"
    )
    title: str
    description: str
    channel: str
    service_code: str
    ticket_type: str
    priority: str
    impact: Level | None
    urgency: Level | None
    priority_reason: str | None
    major_incident: bool
    asset_tag: str | None
    site: str | None = None
    requester: Requester
    requester_id: str | None
    reported_at: datetime
    created_at: datetime
    updated_at: datetime | None
    assignee: AssigneeOut | None
    pending_reason: str | None
    resolution: str | None
    resolved_at: datetime | None
    resolved_at_desk: bool
    guidance_minutes: float | None
    guidance_started_at: datetime | None = None
    desk_first: bool = Field(default=False, description="Held by the desk for remote guidance before dispatch assigns")
    authorization: Authorization | None = Field(
        default=None, description="The agency's authorization when the catalog service requires one: awaiting, approved "
        "(by its decision or a standing authorization) or declined (the note is the reason); null: not required",
    )
    acknowledged_at: datetime | None = Field(
        default=None, description="When the desk acknowledged a ticket awaiting authorization (its response clock stopped)")
    dispatch_requested_at: datetime | None = Field(
        default=None, description="When a desk-first ticket was sent to dispatch (by an agent, or when its window ran out)"
    )
    article_id: str | None
    closed_at: datetime | None
    satisfaction: int | None
    satisfaction_comment: str | None
    reopen_count: int
    comments: list[Comment]
    service_record: ServiceRecord | None
    suggestions: list[Suggestion] = Field(description="Knowledge articles suggested for this ticket")
    history: list[AuditEntry] = Field(
        default_factory=list,
        description="The ticket's steps, oldest first: its status changes and the agency's authorization decisions "
        "(who, when, the reason). A requester reads them too, the reason only where it is addressed to them (the "
        "agency's decision, e.g. a decline's note, and their own acts); the full audit is GET /tickets/{id}/history",
    )

    @classmethod
    def of(cls, ticket: Ticket, actor: Actor) -> TicketOut:
        fields = ticket.model_dump(exclude={"history", "audit", "mail_ids"})
        # Work notes are for the desk and engineers; requesters see public comments only.
        fields["comments"] = [
            messages.comment_for(c, actor.language) for c in ticket.comments if not (c.internal and actor.role == "requester")
        ]
        if actor.role == "requester":
            # Dispatch's reason (scoring, a delay) and the desk's words are for staff: requesters read their template.
            shown = messages.assignee_for_requester(ticket)
        else:
            # Staff read dispatch's reasons in their own language (Accept-Language), rendered from its codes.
            shown = messages.assignee_for_staff(ticket, language=actor.language)
        fields["assignee"] = shown.model_dump() if shown is not None else None
        if fields["assignee"] is not None:
            fields["assignee"]["notice"] = messages.assignee_notice(ticket, language=actor.asked_language)
        fields["allowed_transitions"] = list(lifecycle.allowed_for(ticket, actor))
        fields["history"] = [e.model_dump() for e in timeline.steps_for(ticket, actor)]
        return cls.model_validate(fields)


class TicketDetail(TicketOut):
    sla: list[TimerView] | None = Field(
        default=None, description="The ticket's SLA timers; null when the SLA monitor did not answer in time"
    )


class TicketPage(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")
    total: int = Field(description="How many tickets match the query in all, over every page")


class QueueCounts(BaseModel):
    """The desk's queues counted in one call, each within the caller's view and the filters given."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"open": 42, "held": 3, "unassigned": 7, "waiting": 5, "review": 2, "mine": 4, "authorization": 1},
    ]})

    open: int = Field(description="new, assigned, in_progress or pending")
    held: int = Field(description="Held at the desk (desk-first, not yet sent to dispatch)")
    unassigned: int = Field(description="new, and no engineer holds it")
    waiting: int = Field(description="pending (on the requester, a vendor or parts)")
    review: int = Field(description="resolved, with a service record waiting for the desk's review")
    mine: int = Field(description="open, and the caller is the desk person who last acted on it (handled_by)")
    authorization: int = Field(
        default=0, description="awaiting the agency's authorization: the desk acknowledges it (its response clock runs)"
    )


OPEN_STATES = ("new", "assigned", "in_progress", "pending")
QUEUE_FILTERS: dict[str, dict[str, frozenset[str]]] = {
    "open": {"status": frozenset(OPEN_STATES)},
    "held": {"held": frozenset({"true"})},
    "unassigned": {"unassigned": frozenset({"true"})},
    "waiting": {"status": frozenset({"pending"})},
    "review": {"status": frozenset({"resolved"}), "review": frozenset({"pending"})},
    "mine": {"status": frozenset(OPEN_STATES)},  # and handled_by = the caller
    # Open work for the desk although nobody works on it yet: the desk acknowledges it (POST /tickets/{id}/acknowledge).
    "authorization": {"status": frozenset({"awaiting_authorization"})},
}


def _summary(fields: dict[str, object], *, actor: Actor, window: timedelta) -> TicketSummary:
    shown = dict(fields)
    since = shown.pop("held_since", None)
    shown["held_until"] = since + window if isinstance(since, datetime) else None
    if actor.role == "requester":
        shown["handled_by"] = shown["handled_by_name"] = None  # who at the desk is the desk's business
    return TicketSummary.model_validate(shown)


router = APIRouter(prefix="/api/v1")


# Its own router for the route class: the schema's errors and the desk's come in one 422 (all_errors.py).
creating = APIRouter(route_class=AllFieldErrors)


@creating.post("/tickets", status_code=status.HTTP_201_CREATED, response_model=TicketOut, tags=["tickets"])
async def create_ticket(
    body: TicketIn,
    response: Response,
    wired: Wired,
    actor: Caller,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TicketOut:
    """Record a ticket; replaying the same Idempotency-Key returns the original ticket with 200."""
    started = time.perf_counter()
    # Every broken rule at once (an unknown code and an unknown tag are named together), before the use case.
    given = body.model_dump(exclude_unset=True)
    refuse(await ticket_problems(given, actor=actor, wired=wired), given)
    # What a requester may set is the domain's rule (their account fills the requester, triage is the desk's).
    if body.requester is not None and (body.requester.name or actor.role == "requester"):
        # A requester's name and department are their account's (the domain refuses others, naming the field).
        requester = Requester(**{**body.requester.model_dump(), "name": body.requester.name or actor.name or actor.subject})
    elif actor.role == "requester":
        requester = Requester(name=actor.name or actor.subject)
    elif body.requester is not None:
        raise HTTPException(422, [{"loc": ["body", "requester", "name"], "msg": Said("err.say_requester"), "type": "missing"}])
    else:
        raise HTTPException(422, [{"loc": ["body", "requester"], "msg": Said("err.say_requester"), "type": "missing"}])
    cmd = NewTicket(
        title=body.title, description=body.description, requester=requester, channel=body.channel,
        service_code=body.service_code, asset_tag=body.asset_tag, reported_at=body.reported_at, site=body.site,
        impact=body.impact, urgency=body.urgency, priority=body.priority, priority_reason=body.priority_reason,
        major_incident=body.major_incident, requester_id=body.requester_id, desk_first=body.desk_first,
        emergency=body.emergency,
    )
    ticket, created = await service.open_ticket(
        cmd, desk=wired.desk, now=now(), correlation_id=correlation(), actor=actor, idempotency_key=idempotency_key
    )
    if created:
        metrics.tickets_created.labels(ticket.channel, ticket.service_code, ticket.priority).inc()
        metrics.create_latency.observe(time.perf_counter() - started)
    else:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    set_etag(response, ticket.version)
    return TicketOut.of(ticket, actor)


SORTS = ("created_at", "reported_at", "updated_at", "priority", "number")


MAX_IDS = 200


@router.get("/tickets", response_model=TicketPage, tags=["tickets"], summary="List and search tickets")
async def list_tickets(
    wired: Wired,
    actor: Caller,
    status_: Annotated[list[TicketStatus] | None, Query(alias="status")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    service_code: Annotated[list[str] | None, Query(max_length=40)] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    assignee: Annotated[list[str] | None, Query(max_length=64, description="Engineer id")] = None,
    requester: Annotated[list[str] | None, Query(max_length=64, description="Requester user name")] = None,
    department: Annotated[list[str] | None, Query(max_length=100)] = None,
    asset_tag: Annotated[list[str] | None, Query(max_length=40)] = None,
    ticket_type: Annotated[list[Literal["incident", "service_request", "repair", "task"]] | None, Query()] = None,
    held: Annotated[bool | None, Query(description="true: only tickets held at the desk (desk-first, not yet sent on); false filters nothing")] = None,
    unassigned: Annotated[bool | None, Query(description="true: only new tickets no engineer holds; false filters nothing")] = None,
    review: Annotated[
        list[Literal["pending", "approved", "returned"]] | None,
        Query(description="The service record's review; with status=resolved and review=pending: awaiting the desk's review"),
    ] = None,
    handled_by: Annotated[
        list[str] | None,
        Query(max_length=64, description="The desk person who last acted on it (see handled_by in the items); `me` is the caller"),
    ] = None,
    authorization: Annotated[
        list[Literal["awaiting", "approved", "declined"]] | None,
        Query(description="The agency's authorization of the work; with emergency=true and awaiting: emergency work still "
              "waiting for the agency's decision (its `authorization` clock on GET /timers?timer=authorization)"),
    ] = None,
    emergency: Annotated[bool | None, Query(description="true: only emergency work (started first); false filters nothing")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Free text, Chinese or English; every term must match")] = None,
    ids: Annotated[
        list[str] | None,
        Query(alias="id", description=f"Only these tickets, by id (repeat it, up to {MAX_IDS}): which of tickets known from "
              "elsewhere (GET /timers) match the other filters, in one call"),
    ] = None,
    created_from: Annotated[LocalDateFrom | None, Query(description=FROM_HELP)] = None,
    created_to: Annotated[LocalDateTo | None, Query(description=TO_HELP)] = None,
    reported_from: Annotated[LocalDateFrom | None, Query(description=FROM_HELP)] = None,
    reported_to: Annotated[LocalDateTo | None, Query(description=TO_HELP)] = None,
    sort: Annotated[str, Query(pattern=r"^-?(created_at|reported_at|updated_at|priority|number)$")] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TicketPage:
    """Filters combine with AND, repeated values of one filter with OR; the order is stable (ties broken by id),
    so cursor pages never repeat or skip a ticket. Requesters see their own and their department's tickets,
    engineers the ones assigned to them. The desk's queues: held=true (held at the desk), unassigned=true,
    status=pending (waiting), status=resolved&review=pending (awaiting review), status=...&handled_by=me (mine);
    their counts in one call: GET /tickets/counts. Each item says whether the desk holds it and until when, its
    review, its assignee and who at the desk last handled it; `total` counts every page."""
    for name, value in (("created_from", created_from), ("created_to", created_to), ("reported_from", reported_from), ("reported_to", reported_to)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, [{"loc": ["query", name], "msg": Said("err.needs_offset", field=name), "type": "value_error"}])
    if ids is not None and len(ids) > MAX_IDS:
        raise HTTPException(422, [{"loc": ["query", "id"], "msg": Said("err.too_many_values", field="id", max=MAX_IDS), "type": "too_long"}])
    given = {
        "status": status_, "priority": priority, "service_code": service_code, "channel": channel, "assignee": assignee,
        "requester": requester, "department": department, "asset_tag": asset_tag, "ticket_type": ticket_type,
        "review": review, "handled_by": [actor.subject if who == "me" else who for who in handled_by or ()],
        "held": ["true"] if held else None, "unassigned": ["true"] if unassigned else None,
        "authorization": authorization, "emergency": ["true"] if emergency else None,
    }
    filters = {name: frozenset(str(v) for v in values) for name, values in given.items() if values and name in FILTER_FIELDS}
    query = SearchQuery(
        filters=filters, text=q, created_from=created_from, created_to=created_to, reported_from=reported_from,
        reported_to=reported_to, sort=sort.lstrip("-"), descending=sort.startswith("-"), limit=limit, cursor=cursor,  # type: ignore[arg-type]
        ids=frozenset(ids or ()),
    )
    summaries, next_cursor, total = await wired.index.page_async(query, actor=actor)
    window = wired.guidance_window
    return TicketPage(items=[_summary(s, actor=actor, window=window) for s in summaries], next_cursor=next_cursor, total=total)


@router.get("/tickets/counts", response_model=QueueCounts, tags=["tickets"], summary="The desk's queue counts in one call")
async def queue_counts(
    wired: Wired,
    actor: Caller,
    priority: Annotated[list[Priority] | None, Query()] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    service_code: Annotated[list[str] | None, Query(max_length=40)] = None,
    department: Annotated[list[str] | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Free text, Chinese or English; every term must match")] = None,
) -> QueueCounts:
    """Each queue as GET /tickets would count it (its `total`) with these filters, within what the caller may see."""
    given = {"priority": priority, "channel": channel, "service_code": service_code, "department": department}
    common = {name: frozenset(str(v) for v in values) for name, values in given.items() if values}
    queries: dict[str, SearchQuery] = {}
    for name, queue in QUEUE_FILTERS.items():
        filters = {**common, **queue}
        if name == "mine":
            filters["handled_by"] = frozenset({actor.subject})
        queries[name] = SearchQuery(filters=filters, text=q)
    return QueueCounts(**await wired.index.counts_async(queries, actor=actor))


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
async def read_ticket(ticket_id: str, response: Response, wired: Wired, actor: Caller) -> TicketDetail:
    ticket = await service.get_ticket(ticket_id, desk=wired.desk, actor=actor)
    timers: list[TimerView] | None = None
    if wired.timers is not None:
        try:
            timers = await wired.timers.timers(ticket.id)  # the path may name the ticket by its number
        except TimersUnavailable:
            timers = None  # the ticket is still worth showing without its clocks
    set_etag(response, ticket.version)
    return TicketDetail(**TicketOut.of(ticket, actor).model_dump(), sla=timers)


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"impact": "high", "urgency": "high", "major_incident": True}]})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    asset_tag: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_/]*$")
    site: str | None = Field(default=None, max_length=100)
    major_incident: bool | None = None
    service_code: str | None = Field(default=None, min_length=1, max_length=40)
    impact: Level | None = None
    urgency: Level | None = None
    priority: Priority | None = Field(default=None, description="Agent override of impact x urgency; needs priority_reason")
    priority_reason: str | None = Field(default=None, min_length=1, max_length=500)

    @field_validator("title", "description", "major_incident", "service_code", mode="before")
    @classmethod
    def _required_fields_stay_set(cls, value: object) -> object:
        """Omit a field to leave it; null clears only what may be empty (asset tag, site, impact, urgency)."""
        if value is None:
            raise PydanticCustomError("null_not_allowed", "cannot be null; omit the field to leave it unchanged")
        return value


async def _step(ticket_id: str, step: service.Step, *, wired: Wired, actor: Actor, response: Response, version: int | None) -> TicketOut:
    ticket = await service.act(ticket_id, step, desk=wired.desk, actor=actor, now=now(), correlation_id=correlation(), expected_version=version)
    set_etag(response, ticket.version)
    return TicketOut.of(ticket, actor)


@router.patch("/tickets/{ticket_id}", response_model=TicketOut, tags=["tickets"])
async def update_ticket(ticket_id: str, body: TicketPatch, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    """Edit the record; send If-Match with the ETag you read, or get 412 when someone changed it meanwhile."""
    fields = body.model_dump(exclude_unset=True, exclude={"priority", "priority_reason"})
    at = now()
    service_def = wired.catalog.get(fields["service_code"]) if "service_code" in fields else None
    await known_tags.require_known(fields.get("asset_tag"), wired.tags)  # as on create: a tag assets announced
    return await _step(
        ticket_id,
        lambda t: lifecycle.update_fields(
            t, actor=actor, now=at, fields=fields, service=service_def, priority=body.priority, priority_reason=body.priority_reason
        ),
        wired=wired, actor=actor, response=response, version=version,
    )


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"status": "pending", "pending_reason": "parts", "reason": "等待硒鼓到貨"}]})

    status: TicketStatus
    reason: str | None = Field(default=None, min_length=1, max_length=1000)
    pending_reason: Literal["requester", "vendor", "parts"] | None = None


@router.post("/tickets/{ticket_id}/status", response_model=TicketOut, tags=["lifecycle"],
             summary="Start work, put on hold (pending) or cancel; 409 lists the allowed states")
async def change_status(ticket_id: str, body: StatusIn, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    at = now()
    return await _step(
        ticket_id,
        lambda t: lifecycle.change_status(t, target=body.status, actor=actor, now=at, reason=body.reason, pending_reason=body.pending_reason),
        wired=wired, actor=actor, response=response, version=version,
    )


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"resolution": "指導用戶取出卡紙並清潔搓紙輪", "at_desk": True, "guidance_minutes": 4, "article_id": "kb-0001"}]})

    resolution: str = Field(min_length=1, max_length=5000)
    at_desk: bool = Field(default=False, description="Resolved by the desk at first contact with remote guidance")
    guidance_minutes: float | None = Field(default=None, ge=0, le=60, description="Remote guidance time; the contract caps it at 5")
    article_id: str | None = Field(default=None, max_length=64, description="The knowledge article that solved it")


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut, tags=["lifecycle"])
async def resolve_ticket(ticket_id: str, body: ResolveIn, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    at = now()
    out = await _step(
        ticket_id,
        lambda t: lifecycle.resolve(
            t, actor=actor, now=at, resolution=body.resolution, at_desk=body.at_desk,
            guidance_minutes=body.guidance_minutes, article_id=body.article_id,
        ),
        wired=wired, actor=actor, response=response, version=version,
    )
    metrics.count_resolution(at_desk=body.at_desk)
    return out


@router.post("/tickets/{ticket_id}/guidance", response_model=TicketOut, tags=["lifecycle"],
             summary="Start remote guidance at first contact: the 5-minute remote guidance clock runs")
async def start_guidance(ticket_id: str, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    """Resolving at the desk later takes the guidance minutes from this clock when none are given."""
    at = now()
    return await _step(
        ticket_id, lambda t: lifecycle.start_guidance(t, actor=actor, now=at), wired=wired, actor=actor, response=response, version=version,
    )


@router.post("/tickets/{ticket_id}/dispatch", response_model=TicketOut, tags=["lifecycle"],
             summary="Send a desk-first ticket to dispatch now; 409 when it is not with the desk")
async def send_to_dispatch(ticket_id: str, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    """Remote guidance did not solve it: dispatch assigns an engineer at once (ticket.dispatch_requested). The dispatch
    clock has run since the ticket was created and keeps running."""
    ticket = await handover.send_on(
        ticket_id, desk=wired.desk, actor=actor, now=now(), correlation_id=correlation(), expected_version=version
    )
    set_etag(response, ticket.version)
    return TicketOut.of(ticket, actor)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"satisfaction": 5, "comment": "很快解決"}]})

    satisfaction: int | None = Field(default=None, ge=1, le=5, description="The requester's rating, 1 (poor) to 5 (excellent)")
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut, tags=["lifecycle"])
async def close_ticket(ticket_id: str, body: CloseIn, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    at = now()
    return await _step(
        ticket_id, lambda t: lifecycle.close(t, actor=actor, now=at, satisfaction=body.satisfaction, comment=body.comment),
        wired=wired, actor=actor, response=response, version=version,
    )


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"reason": "打印機又卡紙了"}]})

    reason: str = Field(min_length=1, max_length=1000)


@router.post("/tickets/{ticket_id}/reopen", response_model=TicketOut, tags=["lifecycle"])
async def reopen_ticket(ticket_id: str, body: ReopenIn, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    """Back to the engineer who resolved it (in progress), or, resolved at the desk, back to the desk's first contact
    with a fresh guidance window before dispatch (handover.reopen)."""
    ticket = await handover.reopen(
        ticket_id, desk=wired.desk, actor=actor, now=now(), reason=body.reason, window=wired.reopen_window,
        correlation_id=correlation(), expected_version=version,
    )
    set_etag(response, ticket.version)
    return TicketOut.of(ticket, actor)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"body": "工程師已出發,預計十分鐘到達", "internal": False}]})

    body: str = Field(min_length=1, max_length=10_000)
    internal: bool = Field(default=False, description="A work note: never shown to requesters")


@router.post("/tickets/{ticket_id}/comments", response_model=Comment, status_code=201, tags=["tickets"])
async def add_comment(ticket_id: str, body: CommentIn, wired: Wired, actor: Caller) -> Comment:
    at = now()
    added: list[Comment] = []

    def step(t: Ticket) -> lifecycle.Changed:
        updated, comment, events = lifecycle.add_comment(t, actor=actor, now=at, body=body.body, internal=body.internal)
        added.append(comment)
        return updated, events

    await service.act(ticket_id, step, desk=wired.desk, actor=actor, now=at, correlation_id=correlation())
    return added[-1]


class PartIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    part: str = Field(min_length=1, max_length=100)
    quantity: int = Field(default=1, ge=1, le=1000)
    sku: str | None = Field(default=None, min_length=1, max_length=100, description="The spare stock's part type")


class ServiceRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"work_done": "更換硒鼓並清潔定影器", "parts_used": [{"part": "HP 26A 硒鼓", "quantity": 1}], "minutes_on_site": 25}]})

    work_done: str = Field(min_length=1, max_length=5000)
    parts_used: list[PartIn] = Field(default_factory=list, max_length=50)
    minutes_on_site: int = Field(default=0, ge=0, le=24 * 60)


@router.put("/tickets/{ticket_id}/service-record", response_model=TicketOut, tags=["lifecycle"],
            summary="The desk's correction of a service record waiting for review")
async def submit_service_record(ticket_id: str, body: ServiceRecordIn, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    """The desk corrects a record that waits for review (it stays pending), or writes one for a ticket no engineer
    held. Engineers complete with the record through dispatch: `POST /api/v1/assignments/{ticket}/complete`."""
    at = now()
    parts = [PartUsed(part=p.part, quantity=p.quantity, sku=p.sku) for p in body.parts_used]
    return await _step(
        ticket_id,
        lambda t: service_record.correct(t, actor=actor, now=at, work_done=body.work_done, parts_used=parts, minutes_on_site=body.minutes_on_site),
        wired=wired, actor=actor, response=response, version=version,
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"decision": "return", "note": "請補充硒鼓序號"}]})

    decision: Literal["approve", "return"]
    note: str | None = Field(default=None, min_length=1, max_length=2000)


@router.post("/tickets/{ticket_id}/service-record/review", response_model=TicketOut, tags=["lifecycle"])
async def review_service_record(ticket_id: str, body: ReviewIn, response: Response, wired: Wired, actor: Caller, version: IfMatch) -> TicketOut:
    """The desk approves the engineer's record or returns it with a note (the one review: dispatch's assignment
    follows it, announced as ticket.service_record_reviewed). A returned record takes the ticket back into work."""
    at = now()
    return await _step(
        ticket_id,
        lambda t: service_record.review(t, actor=actor, now=at, approve=body.decision == "approve", note=body.note),
        wired=wired, actor=actor, response=response, version=version,
    )


@router.get("/tickets/{ticket_id}/history", response_model=list[AuditEntry], tags=["tickets"],
            summary="Every change to the ticket: who, when, from where, what")
async def ticket_history(ticket_id: str, wired: Wired, actor: Caller) -> list[AuditEntry]:
    ticket = await service.get_ticket(ticket_id, desk=wired.desk, actor=actor)
    if actor.role == "requester":
        raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.history_desk"))
    return list(ticket.audit)


class DeskShare(BaseModel):
    month: str | None = Field(default=None, description="The local month counted (YYYY-MM, Asia/Shanghai); null: all time")
    resolved: int
    resolved_at_desk: int
    share: float | None = Field(description="Share of resolved tickets the desk resolved at first contact (target 0.3-0.5)")


def _local_month(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a month on the agency's wall clock: November is 1 Nov 00:00 to 1 Dec 00:00 in Shanghai."""
    year, number = int(month[:4]), int(month[5:7])
    start = datetime(year, number, 1, tzinfo=AGENCY_TZ)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=AGENCY_TZ)
    return start, end


@router.get("/stats/desk", response_model=DeskShare, tags=["tickets"], summary="The desk resolution share, the contract's headline figure")
async def desk_share(
    wired: Wired,
    actor: Caller,
    month: Annotated[
        str | None,
        Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="A local month, YYYY-MM (e.g. 2026-11): tickets resolved in it; omit for all time"),
    ] = None,
) -> DeskShare:
    if not reads_everything(actor.role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.desk_managers_auditors"))
    start, end = _local_month(month) if month else (None, None)
    resolved, at_desk = wired.index.resolution_counts(start=start, end=end)
    return DeskShare(month=month, resolved=resolved, resolved_at_desk=at_desk, share=round(at_desk / resolved, 4) if resolved else None)


router.include_router(creating)
