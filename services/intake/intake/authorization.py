"""The agency's authorization of work (contract 1.3.1: 項目組成員在采購人的一切工作都在得到信息中心管理人員的授權之后進行).

A ticket whose catalog service `requires_authorization` starts `awaiting_authorization`: nobody is dispatched, nobody
works on it (lifecycle's table allows only cancel). The agency (role `agency`) decides it, and only the agency: the
team cannot authorize its own work (403). Approve: the ticket becomes `new` and goes to dispatch at once
(ticket.authorized, dispatch=true; the SLA monitor starts the dispatch clock there). Decline: it is cancelled with the
agency's note as the reason the requester reads (ticket.authorization_declined beside ticket.status_changed).

A standing authorization (routine work the agency pre-approves until a date, for one service, optionally only some
departments or asset types) authorizes a matching ticket as it is recorded: it never waits, and the ticket and the
history name the standing authorization. Emergency work (the desk marks it when recording) is dispatched first; the
agency's decision comes after the fact, and the SLA monitor's `authorization` clock says by when.

Pure: values in, (ticket, events) out. Worked example: RS-ONSITE requires authorization; 09:00 a requester files
(awaiting_authorization, response clock running); 09:20 the desk acknowledges (response met); 10:05 the agency approves
(new, ticket.authorized -> dispatch assigns at 10:05:01; the dispatch clock ran from 10:05)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts import TicketUpdatedV1
from opsdesk_shared.contracts.authorizations import TicketAuthorizationDeclinedV1, TicketAuthorizedV1
from opsdesk_shared.contracts.envelope import EventData
from opsdesk_shared.hanzi import same_text
from opsdesk_shared.roles import AGENCY_ROLE, DESK_ROLES, READ_EVERYTHING

from .access import Forbidden
from .catalog import CatalogService
from .domain import AGENCY_TZ, Actor, InvalidField, Status, Ticket, audit_entry, to_millis
from .lifecycle import Changed, IllegalTransition, _move, _status_update
from .texts import Said

Decision = Literal["approve", "decline"]
OPEN_STATES = frozenset({"new", "assigned", "in_progress", "pending"})


class StandingAuthorization(BaseModel):
    """Routine work the agency pre-approves: tickets of `service_code` (from the departments and of the asset types
    named, when any are) recorded on or before `valid_until` (the agency's local date) are authorized at once."""

    model_config = ConfigDict(frozen=True)

    id: str
    service_code: str
    departments: tuple[str, ...] = ()
    asset_types: tuple[str, ...] = ()
    valid_until: date
    note: str | None = None
    created_by: str
    created_by_name: str = ""
    created_at: datetime
    updated_at: datetime
    version: int = 1


class StandingIn(BaseModel):
    """What the agency writes: the service, optional departments and asset types, the last valid day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_code: str = Field(min_length=1, max_length=40, examples=["RS-ONSITE"])
    departments: list[str] = Field(default_factory=list, max_length=50, description="Empty: every department")
    asset_types: list[str] = Field(default_factory=list, max_length=50, description="Empty: any asset (or none)")
    valid_until: date = Field(description="The last day it covers, in the agency's local calendar (inclusive)")
    note: str | None = Field(default=None, max_length=1000)


def local_day(now: datetime) -> date:
    return now.astimezone(AGENCY_TZ).date()


def require_agency(actor: Actor, code: str = "err.agency_only") -> None:
    """Only the agency decides authorizations (the team cannot authorize its own work)."""
    if actor.role != AGENCY_ROLE:
        raise Forbidden(Said(code))


def may_read_standing(actor: Actor) -> bool:
    return actor.role in READ_EVERYTHING


def new_standing(body: StandingIn, *, actor: Actor, now: datetime, service: CatalogService | None) -> StandingAuthorization:
    require_agency(actor, "err.standing_agency_only")
    _check(body, service=service, now=now)
    now = to_millis(now)
    return StandingAuthorization(
        id=str(uuid.uuid4()), service_code=body.service_code, departments=tuple(body.departments),
        asset_types=tuple(body.asset_types), valid_until=body.valid_until, note=body.note, created_by=actor.subject,
        created_by_name=actor.name, created_at=now, updated_at=now,
    )


def changed_standing(
    current: StandingAuthorization, body: StandingIn, *, actor: Actor, now: datetime, service: CatalogService | None
) -> StandingAuthorization:
    require_agency(actor, "err.standing_agency_only")
    _check(body, service=service, now=now)
    return current.model_copy(update={
        "service_code": body.service_code, "departments": tuple(body.departments), "asset_types": tuple(body.asset_types),
        "valid_until": body.valid_until, "note": body.note, "updated_at": to_millis(now), "version": current.version + 1,
    })


def _check(body: StandingIn, *, service: CatalogService | None, now: datetime) -> None:
    if service is None:
        raise InvalidField(("body", "service_code"), Said("err.unknown_service", code=body.service_code))
    if body.valid_until < local_day(now):
        raise InvalidField(("body", "valid_until"), Said("err.standing_past"))


def covers(
    standing: StandingAuthorization, *, service_code: str, department: str | None, asset_type: str | None, today: date,
) -> bool:
    """The standing authorization covers a ticket of this service, from this department, on this asset type, today.
    Departments compare script-folded (财务科 = 財務科); a named asset type needs the ticket's asset to be of it."""
    if standing.service_code != service_code or today > standing.valid_until:
        return False
    if standing.departments and not any(same_text(department, d) for d in standing.departments):
        return False
    return not standing.asset_types or (asset_type is not None and any(same_text(asset_type, t) for t in standing.asset_types))


def covering(
    standing: Iterable[StandingAuthorization], *, service_code: str, department: str | None, asset_type: str | None,
    today: date,
) -> StandingAuthorization | None:
    """The standing authorization that covers the ticket (the one valid longest, then the oldest); None: it waits."""
    found = [s for s in standing if covers(s, service_code=service_code, department=department, asset_type=asset_type, today=today)]
    return min(found, key=lambda s: (-s.valid_until.toordinal(), s.created_at, s.id)) if found else None


def authorized_event(
    ticket: Ticket, *, service: CatalogService | None, at: datetime, by: str, dispatch: bool, note: str | None = None,
) -> TicketAuthorizedV1:
    auth = ticket.authorization
    return TicketAuthorizedV1(
        ticket_id=ticket.id, number=ticket.number, title=ticket.title, channel=ticket.channel,
        service_code=ticket.service_code, priority=ticket.priority, requester=ticket.requester,
        requester_id=ticket.requester_id, asset_tag=ticket.asset_tag, reported_at=ticket.reported_at, site=ticket.site,
        ticket_type=ticket.ticket_type, description=ticket.description[:2000] or None,
        major_incident=ticket.major_incident,
        sla_profile=service.sla_profile if service is not None else "responsive",
        skill=(service.skill or None) if service is not None else None,
        authorized_at=at, by=by, basis=auth.basis or "decision" if auth is not None else "decision",
        standing_authorization_id=auth.standing_authorization_id if auth is not None else None, note=note,
        dispatch=dispatch, emergency=auth.emergency if auth is not None else False,
    )


def on_creation(ticket: Ticket, *, service: CatalogService | None) -> list[EventData]:
    """The events beside ticket.created: a ticket a standing authorization covered is announced as authorized (the
    record of it; dispatch assigns on ticket.created as for any ticket)."""
    auth = ticket.authorization
    if auth is None or auth.basis != "standing" or auth.decided_at is None:
        return []
    return [authorized_event(ticket, service=service, at=auth.decided_at, by=auth.decided_by or "", dispatch=False)]


def decide(
    ticket: Ticket, *, actor: Actor, decision: Decision, note: str | None, now: datetime, service: CatalogService | None,
) -> Changed:
    """The agency's decision on one ticket (POST /tickets/{id}/authorization)."""
    require_agency(actor)
    now = to_millis(now)
    auth = ticket.authorization
    if auth is None or auth.state != "awaiting":
        why = Said("err.authorization_not_required") if auth is None else Said("err.authorization_decided")
        raise IllegalTransition(ticket.status, "authorization", (), why)
    note = (note or "").strip() or None
    if decision == "decline" and note is None:
        raise InvalidField(("body", "note"), Said("err.decline_note"))
    decided = auth.model_copy(update={
        "state": "approved" if decision == "approve" else "declined", "basis": "decision", "decided_at": now,
        "decided_by": actor.subject, "decided_by_name": actor.name or actor.subject, "note": note,
    })
    changes: dict[str, dict[str, Any]] = {"authorization": {"old": auth.state, "new": decided.state}}
    if note:
        changes["authorization_note"] = {"old": None, "new": note}
    events: list[EventData] = []
    waiting = ticket.status == "awaiting_authorization"
    target: Status = "new" if decision == "approve" else "cancelled"
    if waiting or (decision == "decline" and ticket.status in OPEN_STATES):
        # The ticket moves (awaiting -> new or cancelled; emergency work still open -> cancelled): the history names
        # the agency user, and the change is announced as every status change is.
        _move(ticket, target)
        updated, changed = _status_update(
            ticket.model_copy(update={"authorization": decided}), target, actor, now,
            action=f"authorization:{'approved' if decision == 'approve' else 'declined'}", reason=note,
        )
        entry = updated.audit[-1]
        updated = updated.model_copy(update={
            "audit": (*updated.audit[:-1], entry.model_copy(update={"changes": {**entry.changes, **changes}})),
        })
        events.append(changed)
    else:
        # Emergency work decided after the fact (already dispatched, or done): recorded, the state stays.
        updated = ticket.model_copy(update={
            "authorization": decided, "updated_at": now,
            "audit": (*ticket.audit, audit_entry(actor, f"authorization:{decided.state}", now, changes)),
        })
        events.append(TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now))
    if decision == "approve":
        events.append(authorized_event(updated, service=service, at=now, by=actor.subject, dispatch=waiting, note=note))
    else:
        events.append(TicketAuthorizationDeclinedV1(
            ticket_id=ticket.id, number=ticket.number, service_code=ticket.service_code, note=note or "",
            declined_at=now, by=actor.subject, emergency=auth.emergency,
        ))
    return updated, events


def acknowledge(ticket: Ticket, *, actor: Actor, now: datetime) -> Changed:
    """The desk acknowledges a ticket that waits for the agency: the requester has been answered (the response clock
    stops here; ticket.updated with `acknowledged_at`). Once; a repeat changes nothing."""
    if actor.role not in DESK_ROLES:
        raise Forbidden(Said("err.requires_role", roles=",".join(sorted(DESK_ROLES))))
    if ticket.authorization is None or ticket.status != "awaiting_authorization":
        raise IllegalTransition(ticket.status, "acknowledge", (), Said("err.acknowledged_only_awaiting"))
    if ticket.acknowledged_at is not None:
        return ticket, []
    now = to_millis(now)
    changes: dict[str, dict[str, Any]] = {"acknowledged_at": {"old": None, "new": now.isoformat()}}
    updated = ticket.model_copy(update={
        "acknowledged_at": now, "updated_at": now, "audit": (*ticket.audit, audit_entry(actor, "acknowledged", now, changes)),
    })
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now)]

