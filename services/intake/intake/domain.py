"""Tickets at the desk: the records and the rules that open them. No I/O; functions return state and events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared import roles
from opsdesk_shared.contracts import Requester, TicketCreatedV1
from opsdesk_shared.contracts.tickets import Channel, TicketStatus, TicketType
from opsdesk_shared.hanzi import same_text

from .catalog import CatalogService
from .priority import Level, Priority, priority_of
from .texts import Said

AGENCY_TZ = ZoneInfo("Asia/Shanghai")
MAX_BACKDATING = timedelta(days=7)
# Clients' clocks drift; a reported time this far ahead of ours is still "now".
CLOCK_SKEW = timedelta(minutes=2)
IDEMPOTENCY_NAMESPACE = uuid.UUID("6c1e7f2a-5d4b-4c8e-9a51-3f0d2b7e8a10")
# The contract caps remote guidance at the desk at five minutes; more is on-site work.
GUIDANCE_CAP_MINUTES = 5.0

Status: TypeAlias = TicketStatus
Role = roles.Role
PendingReason = Literal["requester", "vendor", "parts"]

class InvalidField(ValueError):
    """A request field breaks a business rule; carries the field path for a 422."""

    def __init__(self, loc: tuple[str, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


class Actor(BaseModel):
    """Who acts, as the domain needs to know them: for permissions and the audit trail."""

    model_config = ConfigDict(frozen=True)

    subject: str
    name: str = ""
    role: Role
    department: str | None = None
    engineer_id: str | None = Field(default=None, description="The roster engineer this user is linked to, if any")
    source: str = Field(default="api", description="Where the change came from: client address, 'bus', 'email'")
    language: str = Field(default="zh-CN", description="The caller's language (Accept-Language) for texts rendered for them")
    asked_language: str | None = Field(
        default=None, description="The language the caller asked for (Accept-Language), None when they named none: a "
        "requester's notice then follows the language their ticket is written in"
    )


DESK = Actor(subject="desk", name="Service desk", role="agent", source="internal")
DISPATCH = Actor(subject="dispatch", name="Dispatch", role="agent", source="bus")


class NewTicket(BaseModel):
    """Command: record a ticket as the requester reported it."""

    model_config = ConfigDict(frozen=True)

    title: str
    description: str
    requester: Requester
    channel: Channel
    service_code: str
    asset_tag: str | None = None
    reported_at: datetime | None = None
    site: str | None = None
    impact: Level | None = None
    urgency: Level | None = None
    priority: Priority | None = None
    priority_reason: str | None = None
    major_incident: bool = False
    requester_id: str | None = None
    # The desk tries remote guidance first and dispatch waits (desk_first.py); None: as the catalog service says.
    desk_first: bool | None = None
    # Emergency work of a service that requires the agency's authorization: dispatched at once, authorized after.
    emergency: bool = False


class Assignee(BaseModel):
    """Who holds the ticket. Each text keeps one meaning: `reason` is dispatch's own decision (its scoring, a
    re-dispatch), `note` a person's words when a person decided (a desk agent's reassign reason), `withdrawn_reason`
    why dispatch withdrew the engineer. All three are the staff's; requesters read a template instead (messages.py)."""

    model_config = ConfigDict(frozen=True)

    assignment_id: str
    engineer_id: str
    engineer_name: str
    reason: str | None = Field(
        default=None, description="Dispatch's reason for its own decision (staff only), in the reader's language; null "
        "when a person decided")
    reason_code: str | None = Field(
        default=None, description="Dispatch's reason as a code (staff only; opsdesk_shared.contracts.reasons), which `reason` says")
    reason_params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The reason code's parameters (staff only)")
    assigned_at: datetime
    decided_by: str | None = Field(default=None, description="Who chose this engineer: dispatch, or the desk agent's subject (staff only)")
    note: str | None = Field(default=None, description="The reason the person who decided gave, e.g. a desk reassign (staff only)")
    # Dispatch withdrew this engineer (the ticket ended without their work): kept for the record, no longer held.
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = Field(default=None, description="Why dispatch withdrew the engineer, in the reader's language (staff only)")
    withdrawn_reason_code: str | None = Field(default=None, description="The withdrawal's reason as a code (staff only)")
    withdrawn_reason_params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The withdrawal reason code's parameters (staff only)")
    # What dispatch announced since (assignment.accepted / assignment.confirmed): shown to the requester too.
    accepted_at: datetime | None = Field(default=None, description="When the engineer accepted the job")
    confirmed_at: datetime | None = Field(default=None, description="When the desk confirmed the engineer is going")
    eta: datetime | None = Field(default=None, description="When the engineer expects to be on site or start")

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    at: datetime
    by: str
    reason: str | None = None


class Comment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    body: str
    internal: bool = Field(description="A work note for the desk and engineers; requesters never see it")
    author: str
    author_name: str = ""
    at: datetime
    # A service's work note said from a template (messages.STAFF_NOTES): read in the reader's language, `body` being
    # its zh-CN wording as stored. None: the body is a person's own words.
    text_key: str | None = Field(default=None, description="The note's template, when a service wrote it; the body is then in the reader's language")
    text_params: dict[str, Any] = Field(default_factory=dict, description="The template's values (no dotted keys)")


class PartUsed(BaseModel):
    model_config = ConfigDict(frozen=True)

    part: str
    quantity: int = 1
    sku: str | None = Field(default=None, description="The spare stock's part type, when the part came from stock")


class ServiceRecord(BaseModel):
    """The engineer's record of the work (the catalog's forms are printed from it); the desk reviews it."""

    model_config = ConfigDict(frozen=True)

    work_done: str
    parts_used: tuple[PartUsed, ...] = ()
    minutes_on_site: int = 0
    submitted_by: str
    submitted_by_name: str = Field(default="", description="The name on the submitter's account, when known")
    submitted_at: datetime
    review: Literal["pending", "approved", "returned"] = Field(
        default="pending", description="pending: submitted and waiting for the desk's review; approved; returned to the engineer",
    )
    review_note: str | None = None
    reviewed_by: str | None = None
    reviewed_by_name: str | None = None
    reviewed_at: datetime | None = None
    # Which assignment the record was completed on (dispatch's assignment.completed); none when written at the desk.
    assignment_id: str | None = None
    engineer_id: str | None = None


class Suggestion(BaseModel):
    """A knowledge article the knowledge service suggested for this ticket."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    title: str
    score: float = 0.0


class Authorization(BaseModel):
    """The agency's authorization of the ticket's work (contract 1.3.1; authorization.py decides): asked for when the
    ticket's catalog service requires it, given by the agency's decision or by a standing authorization."""

    model_config = ConfigDict(frozen=True)

    state: Literal["awaiting", "approved", "declined"]
    emergency: bool = Field(default=False, description="Emergency work dispatched first; the agency decides after the fact")
    requested_at: datetime
    basis: Literal["decision", "standing"] | None = Field(
        default=None, description="decision: the agency decided this ticket; standing: a standing authorization covered it")
    standing_authorization_id: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, description="The agency user who decided, or standing:<id>")
    decided_by_name: str | None = None
    note: str | None = Field(default=None, description="The agency's note; on a decline, the reason the requester reads")


class AuditEntry(BaseModel):
    """One change, kept forever: who, when, from where, what (field -> old and new)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str
    by_name: str = Field(default="", description="The name on the account of who acted, when known")
    role: str
    source: str
    action: str
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Ticket(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    number: str
    title: str
    description: str
    requester: Requester
    channel: Channel
    service_code: str
    priority: str
    asset_tag: str | None
    reported_at: datetime
    created_at: datetime
    site: str | None = None
    status: Status
    assignee: Assignee | None = None
    history: tuple[StatusChange, ...] = ()
    version: int = 1
    ticket_type: TicketType = "incident"
    impact: Level | None = None
    urgency: Level | None = None
    priority_reason: str | None = None
    major_incident: bool = False
    requester_id: str | None = None
    pending_reason: PendingReason | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at_desk: bool = False
    guidance_minutes: float | None = None
    guidance_started_at: datetime | None = None
    article_id: str | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    satisfaction_comment: str | None = None
    reopen_count: int = 0
    # ticket.resolved was announced for the current resolution: a service record returned and completed again is the
    # same resolution (resolved once); a reopen starts a new one.
    resolution_announced: bool = False
    # A digest of the request that created the ticket under an Idempotency-Key: a replay with another body is refused
    # (422 idempotency_key_reused), not answered with this ticket. None: no key, or stored before it was kept.
    request_fingerprint: str | None = None
    comments: tuple[Comment, ...] = ()
    service_record: ServiceRecord | None = None
    suggestions: tuple[Suggestion, ...] = ()
    mail_ids: tuple[str, ...] = Field(default=(), description="Message-IDs of the mails threaded into this ticket")
    audit: tuple[AuditEntry, ...] = ()
    updated_at: datetime | None = None
    # Stays with the desk for remote guidance until sent on, resolved there, or the guidance window runs out.
    desk_first: bool = False
    # When it left the desk for dispatch (ticket.dispatch_requested); None while with the desk, or never desk-first.
    dispatch_requested_at: datetime | None = None
    # When the current hold at the desk began: None is its creation; a reopen of a ticket resolved at the desk starts
    # a fresh hold (and guidance window) here.
    desk_since: datetime | None = None
    # The desk's "mine" (handled): the desk person who last acted on the ticket through the API. Kept on the record
    # because the full index reload reads tickets without their audit trail.
    handled_by: str | None = None
    handled_by_name: str | None = None
    # The agency's authorization, when the catalog service requires one (authorization.py); None: not required.
    authorization: Authorization | None = None
    # When the desk acknowledged a ticket that waits for the agency (its response clock stops there).
    acknowledged_at: datetime | None = None


# Automatic acts under a desk role: the desk's relays, dispatch's own choice, the guidance window, knowledge's and
# assets' notes. They never make a ticket someone's.
SYSTEM_SUBJECTS = frozenset({"desk", "dispatch", "intake", "knowledge", "assets"})


def is_desk_person(actor: Actor) -> bool:
    """An agent or admin acting as themselves (not a system, not an API key)."""
    return actor.role in ("agent", "admin") and actor.subject not in SYSTEM_SUBJECTS and not actor.subject.startswith("key:")


def handled(ticket: Ticket, actor: Actor) -> Ticket:
    """The ticket as handled by this actor: a desk person who recorded it, or changed, replied to, sent on, resolved
    or reviewed it, makes it theirs (the desk's "mine"); anyone else leaves it with whoever had it."""
    if not is_desk_person(actor) or (ticket.handled_by == actor.subject and ticket.handled_by_name == (actor.name or actor.subject)):
        return ticket
    return ticket.model_copy(update={"handled_by": actor.subject, "handled_by_name": actor.name or actor.subject})


def ticket_id_for(idempotency_key: str | None) -> str:
    """A retried request with the same Idempotency-Key maps to the same ticket id."""
    if idempotency_key:
        return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key))
    return str(uuid.uuid4())


def number_series(now: datetime) -> str:
    """Ticket numbers restart every year of the agency's calendar."""
    return f"INC-{now.astimezone(AGENCY_TZ).year}"


def format_number(series: str, seq: int) -> str:
    return f"{series}-{seq:06d}"


def check_service(code: str, service: CatalogService | None, *, loc: tuple[str, ...] = ("body", "service_code")) -> CatalogService:
    if service is None or not service.active:
        raise InvalidField(loc, Said("err.unknown_service", code=code))
    return service


def check_new_ticket(cmd: NewTicket, *, service: CatalogService | None, now: datetime) -> CatalogService:
    found = check_service(cmd.service_code, service)
    if (cmd.priority is None) != (cmd.priority_reason is None):
        raise InvalidField(("body", "priority_reason"), Said("err.priority_reason"))
    if cmd.reported_at is not None:
        check_new_ticket_time(cmd.reported_at, now=now)
    return found


def check_new_ticket_time(reported_at: datetime, *, now: datetime) -> None:
    if reported_at.tzinfo is None:
        raise InvalidField(("body", "reported_at"), Said("err.needs_offset", field="reported_at"))
    if reported_at > now + CLOCK_SKEW:
        raise InvalidField(("body", "reported_at"), Said("err.reported_future"))
    if reported_at < now - MAX_BACKDATING:
        raise InvalidField(("body", "reported_at"), Said("err.reported_too_old"))


# What the desk decides when it triages a report; a requester reporting a fault cannot set them (issue 12, finding 5:
# a requester's P1 or major incident, or a report backdated a week, started the escalation chain at once).
DESK_DECIDES = ("priority", "priority_reason", "impact", "urgency", "major_incident", "reported_at", "desk_first", "emergency")


def refuse_desk_fields(actor: Actor, given: dict[str, Any]) -> None:
    """A requester naming a field the desk decides is refused with a 422 on that field, not silently ignored, so a
    client learns at once that its value did not count."""
    if actor.role != "requester":
        return
    for name in DESK_DECIDES:
        value = given.get(name)
        if value is not None and value is not False:
            raise InvalidField(("body", name), Said("err.desk_decides", field=name))


def refuse_other_requester(actor: Actor, given: Requester) -> None:
    """A requester's name and department come from their account: one naming someone else (or another department)
    is refused with a 422 on that field, not silently replaced, so the client learns its value did not count. The
    same values (the department script-folded, 财务科 = 財務科) and their contact (phone, e-mail) are theirs to give."""
    if actor.name and given.name and given.name.strip() != actor.name.strip():
        raise InvalidField(
            ("body", "requester", "name"), Said("err.requester_name", name=actor.name)
        )
    if given.department and not same_text(given.department, actor.department):
        raise InvalidField(
            ("body", "requester", "department"),
            Said("err.requester_department", department=actor.department or "-"),
        )


def reported_by(cmd: NewTicket, actor: Actor) -> NewTicket:
    """The ticket as its reporter may file it: a requester reports for themselves (id, name and department from their
    account; phone and e-mail stay as the contact they gave) and leaves triage to the desk. Others file as given."""
    if actor.role != "requester":
        return cmd
    refuse_desk_fields(actor, cmd.model_dump(include=set(DESK_DECIDES)))
    if cmd.requester_id is not None and cmd.requester_id != actor.subject:
        raise InvalidField(("body", "requester_id"), Said("err.requester_self"))
    refuse_other_requester(actor, cmd.requester)
    requester = cmd.requester.model_copy(
        update={"name": actor.name or cmd.requester.name, "department": actor.department}
    )
    # desk_first false from a requester is let through above but means nothing: the catalog decides for them.
    return cmd.model_copy(update={"requester": requester, "requester_id": actor.subject, "desk_first": None})


def new_ticket_problems(
    fields: Mapping[str, Any], *, actor: Actor, service: CatalogService | None, now: datetime
) -> list[InvalidField]:
    """Every business-rule problem of a new ticket's fields at once, so one 422 names them all (issue 13 H1 item 6):
    each rule is the one `open_ticket` applies, tried on its own field. `fields` may be a body that failed its
    schema: a field that is not the right type yet is left to the schema's own error."""
    problems: list[InvalidField] = []

    def attempt(check: Callable[[], object]) -> None:
        try:
            check()
        except InvalidField as problem:
            problems.append(problem)

    code = fields.get("service_code")
    if isinstance(code, str) and code:
        attempt(lambda: check_service(code, service))
    if actor.role == "requester":
        for name in DESK_DECIDES:
            attempt(lambda name=name: refuse_desk_fields(actor, {name: fields.get(name)}))  # type: ignore[misc]
        given_id = fields.get("requester_id")
        if isinstance(given_id, str) and given_id != actor.subject:
            problems.append(InvalidField(("body", "requester_id"), Said("err.requester_self")))
        given = fields.get("requester")
        if isinstance(given, Mapping):
            who, department = given.get("name"), given.get("department")
            attempt(lambda: refuse_other_requester(actor, Requester.model_construct(
                name=who if isinstance(who, str) else None, department=department if isinstance(department, str) else None,
            )))
        return problems  # the desk's fields are refused above; their values do not matter
    if (fields.get("priority") is None) != (fields.get("priority_reason") is None):
        problems.append(InvalidField(("body", "priority_reason"), Said("err.priority_reason")))
    reported = fields.get("reported_at")
    if isinstance(reported, str):
        try:
            reported = datetime.fromisoformat(reported)
        except ValueError:
            reported = None  # the schema names it
    if isinstance(reported, datetime):
        attempt(lambda: check_new_ticket_time(reported, now=now))
    return problems


def to_millis(moment: datetime) -> datetime:
    """Times are kept to the millisecond, the precision BSON dates keep, so a replayed ticket reads back identical."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def audit_entry(actor: Actor, action: str, now: datetime, changes: dict[str, dict[str, Any]] | None = None) -> AuditEntry:
    return AuditEntry(
        at=now, by=actor.subject, by_name=actor.name, role=actor.role, source=actor.source, action=action, changes=changes or {}
    )


def open_ticket(
    cmd: NewTicket,
    *,
    service: CatalogService | None,
    ticket_id: str,
    number: str,
    now: datetime,
    actor: Actor = DESK,
    standing_id: str | None = None,
) -> tuple[Ticket, TicketCreatedV1]:
    """`standing_id`: the agency's standing authorization that covers this ticket, when its service requires one."""
    cmd = reported_by(cmd, actor)
    service = check_new_ticket(cmd, service=service, now=now)
    now = to_millis(now)
    priority = cmd.priority or priority_of(cmd.impact, cmd.urgency, default=service.default_priority)
    authorization: Authorization | None = None
    if service.requires_authorization:
        if standing_id is not None:
            authorization = Authorization(
                state="approved", requested_at=now, basis="standing", standing_authorization_id=standing_id,
                decided_at=now, decided_by=f"standing:{standing_id}",
            )
        else:
            authorization = Authorization(state="awaiting", requested_at=now, emergency=cmd.emergency)
    awaiting = authorization is not None and authorization.state == "awaiting" and not authorization.emergency
    status: Status = "awaiting_authorization" if awaiting else "new"
    ticket = Ticket(
        id=ticket_id,
        number=number,
        title=cmd.title,
        description=cmd.description,
        requester=cmd.requester,
        channel=cmd.channel,
        service_code=cmd.service_code,
        priority=priority,
        asset_tag=cmd.asset_tag,
        site=cmd.site,
        reported_at=to_millis(cmd.reported_at) if cmd.reported_at else now,
        created_at=now,
        updated_at=now,
        status=status,
        history=(StatusChange(status=status, at=now, by=actor.subject if actor is not DESK else "desk"),),
        ticket_type=service.ticket_type,
        impact=cmd.impact,
        urgency=cmd.urgency,
        priority_reason=cmd.priority_reason,
        major_incident=cmd.major_incident,
        requester_id=cmd.requester_id,
        audit=(audit_entry(actor, "created", now),),
        # Work waiting for the agency is not the desk's to hand over on a timer: it goes on at the authorization.
        desk_first=False if authorization is not None else service.desk_first if cmd.desk_first is None else cmd.desk_first,
        authorization=authorization,
    )
    ticket = handled(ticket, actor)  # the agent who took the call
    event = TicketCreatedV1(
        ticket_id=ticket.id,
        number=ticket.number,
        title=ticket.title,
        channel=ticket.channel,
        service_code=ticket.service_code,
        priority=ticket.priority,
        requester=ticket.requester,
        requester_id=ticket.requester_id,
        asset_tag=ticket.asset_tag,
        reported_at=ticket.reported_at,
        site=ticket.site,
        ticket_type=ticket.ticket_type,
        description=ticket.description[:2000] or None,
        major_incident=ticket.major_incident,
        sla_profile=service.sla_profile,
        skill=service.skill or None,  # the catalog entry is the one owner of what skill a service needs; dispatch matches on it
        desk_first=ticket.desk_first,  # dispatch waits for ticket.dispatch_requested
        awaiting_authorization=awaiting,  # dispatch waits for ticket.authorized
        emergency=authorization is not None and authorization.emergency,
    )
    return ticket, event

