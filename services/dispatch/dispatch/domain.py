"""Choosing an engineer: pure rules over the roster, no I/O."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from opsdesk_shared.contracts import (
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    AssignmentDelayedV1,
    AssignmentReviewedV1,
    EscalationAcknowledgedV1,
    EscalationRaisedV1,
    EventData,
    HelpRequestedV1,
    NoEngineerAvailableV1,
    PartUsedV1,
    ServiceRecordReviewedV1,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketReassignedV1,
)
from opsdesk_shared.hanzi import same_text
from opsdesk_shared.roles import DESK_ROLES as DESK_ROLES
from opsdesk_shared.roles import ENGINEER_ROLE as ENGINEER_ROLE
from opsdesk_shared.roles import SERVICE_ROLE as SERVICE_ROLE
from opsdesk_shared.roles import STAFF_ROLES

from .duty import OFFICE_HOURS, PHONE_OUTSIDE_OFFICE, DutyMode, Shift, duty_at, next_onsite_start
from .texts import Param, Said, render

Role = Literal["onsite", "mobile", "senior", "project_manager"]
EngineerStatus = Literal["available", "busy", "off_duty", "on_leave"]
# Only field engineers take tickets automatically; seniors and the PM are escalation targets.
DISPATCHABLE: tuple[Role, ...] = ("onsite", "mobile")

# Which skill a ticket needs is the catalog's decision (intake's editable `skill`, carried in ticket.created);
# dispatch keeps no table of its own. A ticket without a skill goes to anyone available.

# Intake's ticket numbers (INC-2026-000009): what people say on the phone, accepted wherever a ticket id is.
TICKET_NUMBER = re.compile(r"^[A-Z]{2,6}-\d{4}-\d{1,12}$")


def is_ticket_number(ref: str) -> bool:
    """Whether a path's ticket reference is a number (resolved through the assignment) rather than intake's id."""
    return bool(TICKET_NUMBER.match(ref))


class Engineer(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    # Defaulted because FerretDB v1 drops an empty array written by $setOnInsert.
    skills: tuple[str, ...] = ()
    status: EngineerStatus = "available"
    open_load: int = 0
    capacity: int = 8
    home_site: str | None = Field(default=None, description="Building the engineer works from")
    shifts: tuple[Shift, ...] = Field(default=(), description="Duty rota; none means always on duty")


AssignmentStatus = Literal["unassigned", "open", "accepted", "confirmed", "completed", "reviewed", "withdrawn"]

# The SLA monitor owns the clocks (sla-monitor's DEFAULT_POLICIES); dispatch records its verdicts (sla.breached) on
# the assignment and calls the assignment overdue while the step that clock waits for is still not taken:
# the desk's confirmation (the assignment is open or accepted), an escalation's acknowledgement (one is unanswered).
OVERDUE_CLOCKS = ("confirmation", "escalation")
AWAITING_CONFIRMATION: frozenset[str] = frozenset({"open", "accepted"})
# The work an engineer holds (their open load): from the assignment until it is completed, withdrawn or moved on; a
# record the desk gives back (confirmed again) and a reopened ticket are held again.
HELD: frozenset[str] = frozenset({"open", "accepted", "confirmed"})


def in_load(a: Assignment) -> bool:
    """Whether the assignment counts in its engineer's load."""
    return bool(a.engineer_id) and a.status in HELD


class Step(BaseModel):
    """One line of the assignment's history, as the desk reads it."""

    model_config = ConfigDict(frozen=True)

    action: str
    at: datetime
    by: str = Field(description="Who took the step: the verified caller's subject, or dispatch/desk for what happened by itself")
    engineer_id: str
    note: str | None = None
    code: str | None = Field(default=None, description="The note as a catalogue code (rendered in the reader's language)")
    params: dict[str, Param] = Field(default_factory=dict, description="The code's parameters")


class Escalation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["technical", "other"]
    description: str
    notify: tuple[str, ...]
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    # Closed unacknowledged when the assignment was withdrawn (the ticket ended without the engineer's work): nobody
    # needs to act on it any more, and the open list no longer shows it.
    closed_at: datetime | None = None
    closed_reason: str | None = Field(default=None, description="Why it was closed (e.g. withdrawn: resolved by agent1)")

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None and self.closed_at is None


class Breach(BaseModel):
    """A clock the SLA monitor announced as run out (sla.breached) for this ticket."""

    model_config = ConfigDict(frozen=True)

    timer: str = Field(description="confirmation or escalation")
    due_at: datetime
    breached_at: datetime


class PartUsed(BaseModel):
    """A part the engineer used: `sku` names the spare stock's part type (issued from stock against the ticket),
    `part` the part in the engineer's words; at least one of them."""

    model_config = ConfigDict(frozen=True)

    part: str | None = None
    sku: str | None = None
    quantity: int = 1


RecordReview = Literal["pending", "approved", "returned"]


class ServiceRecord(BaseModel):
    """The engineer's service record as dispatch keeps it: what was submitted with the completion, and the desk's
    verdict as intake announced it (ticket.service_record_reviewed). The review itself is intake's."""

    model_config = ConfigDict(frozen=True)

    work_done: str
    parts_used: tuple[PartUsed, ...] = ()
    minutes_on_site: int = 0
    submitted_by: str
    submitted_at: datetime
    review: RecordReview = "pending"
    review_note: str | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


class Assignment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    ticket_id: str
    ticket_number: str
    engineer_id: str
    engineer_name: str
    reason: str
    score: float | None = Field(description="Dispatch's score of the engineer it chose; null when a person chose (the desk's "
                                "reassign)")
    assigned_at: datetime
    status: AssignmentStatus = "open"
    eta: datetime | None = None
    record: str | None = Field(default=None, description="The service record's text (work done); the whole record is service_record")
    service_record: ServiceRecord | None = None
    history: tuple[Step, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    service_code: str = ""
    channel: str = "hotline"
    site: str | None = None
    mode: Literal["visit", "remote"] = "visit"
    vehicle: bool = False
    visit_note: str | None = Field(default=None, description="How the engineer gets there, in the reader's language")
    visit_note_code: str | None = Field(default=None, description="The visit note as a catalogue code: visit.remote, "
                                        "visit.equipment, visit.other_site, visit.same_site")
    visit_note_params: dict[str, Param] = Field(default_factory=dict, description="The visit note code's parameters")
    skill: str | None = Field(default=None, description="The skill the catalog service needs (from ticket.created); None: anyone")
    breaches: tuple[Breach, ...] = Field(default=(), description="Clocks the SLA monitor announced as run out")
    reason_code: str | None = Field(default=None, description="The reason as a catalogue code: chosen, redispatch, desk, "
                                    "no_engineer, held_after_hours, withdrawn (rendered in the reader's language as `reason`)")
    reason_params: dict[str, Param] = Field(default_factory=dict, description="The reason code's parameters")
    duty: Literal["onsite", "phone", "called_in"] | None = Field(
        default=None, description="The engineer's duty when given the ticket: on site, phone on-call, or called in off duty")
    held_until: datetime | None = Field(
        default=None, description="Work that needs someone on site arrived outside service hours: held until this moment, "
        "when the engineers on site duty take it")
    handed_over_at: datetime | None = Field(
        default=None, description="When intake handed the ticket over for this assignment (ticket.created, or "
        "ticket.dispatch_requested of a desk-first or reopened ticket), by intake's clock")
    ticket_ended_at: datetime | None = Field(
        default=None, description="When the ticket was resolved, cancelled or closed, withdrawing this assignment (intake's "
        "clock); a hand-over after it (a reopened ticket sent on again) opens the assignment anew")
    version: int = 1

    @computed_field(description="A clock ran out and the step it waits for is still not taken (stored, so lists filter on it)")  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        return bool(overdue_clocks(self))


def overdue_clocks(a: Assignment) -> list[str]:
    """The breached clocks whose step is still outstanding (see OVERDUE_CLOCKS)."""
    waiting_for = {
        "confirmation": a.status in AWAITING_CONFIRMATION,
        "escalation": any(e.acknowledged_at is None for e in a.escalations),
    }
    return sorted({b.timer for b in a.breaches if waiting_for.get(b.timer, False)})


def record_breach(a: Assignment, *, timer: str, due_at: datetime, breached_at: datetime) -> Assignment | None:
    """The assignment with the SLA monitor's breach recorded; None for clocks dispatch does not track or a repeat."""
    if timer not in OVERDUE_CLOCKS or any(b.timer == timer and b.due_at == due_at for b in a.breaches):
        return None
    breach = Breach(timer=timer, due_at=due_at, breached_at=breached_at)
    params: dict[str, Param] = {"due": due_at.isoformat()}
    # The stored note (for readers that do not render codes) in the site's time with its offset, never UTC.
    return _with_step(
        a, f"{timer} overdue", at=breached_at, by="sla-monitor", note=render("overdue_due", params, "en"),
        code="overdue_due", params=params, breaches=(*a.breaches, breach),
    )


class NoEngineerAvailable(Said):
    """Nobody on the roster can take the ticket now."""

    def __init__(self, skill: str | None = None) -> None:
        super().__init__("no_engineer", skill=skill)


class OutsideServiceHours(NoEngineerAvailable):
    """Work that needs someone on site, outside service hours (on site 5x8, by phone at other times): it waits for the
    next on-site period instead of going to the phone on-call, who cannot go."""

    def __init__(self, *, until: datetime, work: str) -> None:
        Said.__init__(self, "held_after_hours", until=until.isoformat(), work=work)
        self.until = until


def score(engineer: Engineer, *, skill: str | None) -> float:
    """Higher is better: a skill match outweighs load. A full engineer scores below zero, by how overloaded."""
    if engineer.open_load >= engineer.capacity:
        return -engineer.open_load / engineer.capacity
    skill_points = 10.0 if skill is None or skill in engineer.skills else 0.0
    load_points = 5.0 * (1 - engineer.open_load / engineer.capacity)
    mobile_penalty = 0.5 if engineer.role == "mobile" else 0.0  # the mobile engineer is the reserve
    return skill_points + load_points - mobile_penalty


DUTY_TIER: dict[DutyMode | None, int] = {"onsite": 2, "phone": 1, None: 0}
DUTY_WORDS: dict[DutyMode | None, str] = {"onsite": "on duty on site", "phone": "on call by phone", None: "off duty, called in"}
Duty = Literal["onsite", "phone", "called_in"]
Work = Literal["visit", "remote"]
# What can be done without going: the desk's remote-desktop session. Everything else needs someone on site.
REMOTE_CHANNELS = frozenset({"remote_desktop"})


def work_of(channel: str) -> Work:
    """Whether the ticket needs someone on site (visit) or can be worked remotely."""
    return "remote" if channel in REMOTE_CHANNELS else "visit"


def duty_of(engineer: Engineer, at: datetime | None) -> DutyMode | None:
    if at is None or not engineer.shifts:
        return "onsite"
    return duty_at(engineer.shifts, at)


def duty_name(mode: DutyMode | None) -> Duty:
    return "called_in" if mode is None else mode


def in_service_hours(roster: list[Engineer], at: datetime | None) -> bool:
    """The contract's on-site service time (5x8): some field engineer's on-site shift covers the moment (an engineer
    without a rota always does). Outside it the service is by phone."""
    return at is None or any(e.role in DISPATCHABLE and duty_of(e, at) == "onsite" for e in roster)


def may_go(engineer: Engineer, *, work: Work, at: datetime | None, service_hours: bool) -> bool:
    """Remote work: anyone (on site, on the phone, or called in). Work on site: someone on site duty, or in service
    hours an off-duty engineer called in; never the phone on-call, whose duty is the phone."""
    if work == "remote":
        return True
    duty = duty_of(engineer, at)
    return duty == "onsite" or (duty is None and service_hours)


class Choice(BaseModel):
    """Who is chosen, with the score and the reason as a code and parameters (texts.render says it)."""

    model_config = ConfigDict(frozen=True)

    engineer: Engineer
    score: float
    duty: Duty
    params: dict[str, Param]

    @property
    def reason(self) -> str:
        return render("chosen", self.params, "en")


def decide_engineer(skill: str | None, roster: list[Engineer], *, at: datetime | None = None, work: Work = "visit") -> Choice:
    """On-site duty first, then the phone on-call (remote work only), then anyone available called in (remote work,
    or work on site within service hours); within a tier, the score (the catalog's skill, then load; no skill: load
    alone). Work on site outside service hours raises OutsideServiceHours with the next on-site period."""
    candidates = [e for e in roster if e.role in DISPATCHABLE and e.status == "available"]
    hours = in_service_hours(roster, at)
    ranked = sorted(
        ((DUTY_TIER[duty_of(e, at)], score(e, skill=skill), e) for e in candidates
         if may_go(e, work=work, at=at, service_hours=hours)),
        key=lambda row: (-row[0], -row[1], row[2].id),
    )
    if not ranked:
        if work == "visit" and not hours and at is not None:
            until = next_onsite_start([e.shifts for e in candidates], at)
            if until is not None:
                raise OutsideServiceHours(until=until, work=work)
        raise NoEngineerAvailable(skill)
    # When everyone is full the ticket still goes to the least overloaded engineer: the contract's clock is running,
    # and an unassigned ticket helps nobody; the reason says so for the desk to see.
    _, best_score, best = ranked[0]
    duty = duty_name(duty_of(best, at))
    params: dict[str, Param] = {
        "matched": "match" if skill is None or skill in best.skills else "no_match", "skill": skill, "duty": duty,
        "load": best.open_load, "capacity": best.capacity, "role": best.role, "score": round(best_score, 2),
        "over_capacity": best_score < 0,
    }
    return Choice(engineer=best, score=best_score, duty=duty, params=params)


def choose_engineer(ticket: TicketCreatedV1, roster: list[Engineer], *, at: datetime | None = None) -> tuple[Engineer, float, str]:
    return choose_for(ticket.skill, roster, at=at, work=work_of(ticket.channel))


def choose_for(
    skill: str | None, roster: list[Engineer], *, at: datetime | None = None, work: Work = "visit"
) -> tuple[Engineer, float, str]:
    """decide_engineer as (engineer, score, the reason in English for staff)."""
    choice = decide_engineer(skill, roster, at=at, work=work)
    return choice.engineer, choice.score, choice.reason


# A send-out to a vendor means carrying the device.
EQUIPMENT_TRANSPORT = frozenset({"RS-VENDOR"})


def plan_visit(ticket: TicketCreatedV1, engineer: Engineer, *, at: datetime | None) -> tuple[Literal["visit", "remote"], bool, str]:
    return plan_visit_for(ticket.channel, ticket.service_code, ticket.site, engineer, at=at)


def plan_visit_for(
    channel: str, service_code: str, site: str | None, engineer: Engineer, *, at: datetime | None
) -> tuple[Literal["visit", "remote"], bool, str]:
    """Visit or remote, whether a vehicle is needed, and the note in English (the staff's internal text; people read
    `visit_note_of`'s code rendered in their language)."""
    mode, vehicle, code, params = visit_note_of(channel, service_code, site, engineer)
    return mode, vehicle, render(code, params, "en")


def visit_note_of(
    channel: str, service_code: str, site: str | None, engineer: Engineer,
) -> tuple[Literal["visit", "remote"], bool, str, dict[str, Param]]:
    """Visit or remote, and whether a vehicle is needed (another building, or equipment to carry), with the note as a
    catalogue code and its parameters (texts.py). The work decides, not the engineer's duty: dispatch gives the phone
    on-call remote work only, and one the desk calls out for work on site goes there."""
    if work_of(channel) == "remote":
        return "remote", False, "visit.remote", {}
    if service_code in EQUIPMENT_TRANSPORT:
        return "visit", True, "visit.equipment", {}
    # Buildings compared script-folded: a ticket from 主樓 is in the roster's 主楼.
    if site and engineer.home_site and not same_text(site, engineer.home_site):
        return "visit", True, "visit.other_site", {"site": site, "home_site": engineer.home_site}
    return "visit", False, "visit.same_site", {}


# Assignment ids made from the hand-over event that caused them: a redelivered event names the same assignment.
HANDOVER_IDS = uuid.UUID("5b0c1f0e-3d2a-4c8e-9a51-0d15a7c4e0b1")


def handover_assignment_id(ticket_id: str, cause: str | None) -> str:
    """The id of the assignment a hand-over (its event id) opens for the ticket; random without an event."""
    return str(uuid.uuid5(HANDOVER_IDS, f"{ticket_id}/{cause}")) if cause else str(uuid.uuid4())


def assign(
    ticket: TicketCreatedV1, roster: list[Engineer], *, now: datetime, assignment_id: str | None = None,
    handed_over_at: datetime | None = None,
) -> tuple[Assignment, TicketAssignedV1]:
    choice = decide_engineer(ticket.skill, roster, at=now, work=work_of(ticket.channel))
    engineer = choice.engineer
    mode, vehicle, note_code, note_params = visit_note_of(ticket.channel, ticket.service_code, ticket.site, engineer)
    visit_note = render(note_code, note_params, "en")
    reason = choice.reason
    assignment = Assignment(
        id=assignment_id or str(uuid.uuid4()),
        handed_over_at=handed_over_at or now,
        ticket_id=ticket.ticket_id,
        ticket_number=ticket.number,
        engineer_id=engineer.id,
        engineer_name=engineer.name,
        reason=reason,
        reason_code="chosen",
        reason_params=choice.params,
        duty=choice.duty,
        score=choice.score,
        assigned_at=now,
        service_code=ticket.service_code,
        skill=ticket.skill,
        channel=ticket.channel,
        site=ticket.site,
        mode=mode,
        vehicle=vehicle,
        visit_note=visit_note,
        visit_note_code=note_code,
        visit_note_params=note_params,
        history=(Step(action="assigned", at=now, by="dispatch", engineer_id=engineer.id, note=reason, code="chosen", params=choice.params),),
    )
    event = TicketAssignedV1(
        ticket_id=ticket.ticket_id,
        assignment_id=assignment.id,
        engineer_id=engineer.id,
        engineer_name=engineer.name,
        reason=reason,
        assigned_at=now,
        reason_code="chosen",
        reason_params=choice.params,
        mode=mode,
        duty=choice.duty,
        by="dispatch",
        number=ticket.number,
    )
    return assignment, event


class Actor(BaseModel):
    """Who takes a step: the caller the gateway vouched for (its signed token), never a name from a request body."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="The user, key or service the token names; recorded as `by` in the history")
    role: str
    engineer_id: str | None = Field(default=None, description="The roster engineer a user of role engineer is")


# Roles as the gateway names them (opsdesk_shared.roles). The desk runs the queue; auditors, the agency and services
# read; requesters have no business in dispatch at all (the desk shows them what they need of their own tickets).
READER_ROLES = STAFF_ROLES | {SERVICE_ROLE}
# Every escalation is raised to the project manager (escalate() below), whom the desk knows as role manager; the
# engineers it names in `notify` (the roster's project manager and, when technical, a senior) are the others.
ESCALATION_ROLES = frozenset({"manager"})

Party = Literal["holder", "desk"]
# Who may take each step of an assignment: the engineer who holds it, or the desk acting for the team. Accepting,
# asking for help and writing the service record are the engineer's own; confirming execution, moving the ticket to
# someone else are the desk's (the record is reviewed on the ticket, at intake); a delay or an escalation may come from either (the engineer
# rings the desk). Acknowledging an escalation is neither: see may_acknowledge.
STEP_PARTIES: dict[str, frozenset[Party]] = {
    "accept": frozenset({"holder"}),
    "confirm": frozenset({"desk"}),
    "delay": frozenset({"holder", "desk"}),
    "reassign": frozenset({"desk"}),
    "escalate": frozenset({"holder", "desk"}),
    "help": frozenset({"holder"}),
    "complete": frozenset({"holder"}),
}


class Forbidden(Said):
    """The actor may not do this (a 403); the code and parameters say why."""


# Roles whose users may hold an assignment through their roster link: engineers, and the desk's people who are on
# the roster too (a manager who is the project manager, given a ticket by the desk). Auditors only read.
HOLDER_ROLES = DESK_ROLES | {ENGINEER_ROLE}


def holds(actor: Actor, a: Assignment) -> bool:
    """The actor is the engineer the assignment is with (a waiting ticket is held by nobody)."""
    return actor.role in HOLDER_ROLES and bool(actor.engineer_id) and actor.engineer_id == a.engineer_id


def may_take(actor: Actor, step: str, a: Assignment | None = None) -> bool:
    """Whether the actor may take `step`; without an assignment, whether their role could take it on any."""
    parties = STEP_PARTIES[step]
    if "desk" in parties and actor.role in DESK_ROLES:
        return True
    if "holder" in parties:
        if a is None:
            return actor.role == ENGINEER_ROLE or (actor.role in HOLDER_ROLES and bool(actor.engineer_id))
        return holds(actor, a)
    return False


def authorize(actor: Actor, step: str, a: Assignment | None = None) -> None:
    """Raises Forbidden unless may_take; checked before the state, so a refusal never reveals it."""
    if may_take(actor, step, a):
        return
    if a is not None and actor.role == ENGINEER_ROLE and "holder" in STEP_PARTIES[step]:
        raise Forbidden("err.not_holder", subject=actor.subject, ticket=a.ticket_id)
    raise Forbidden("err.role_step", role=actor.role, step=step)


class UnknownEscalation(Said, LookupError):
    """No escalation with that id on the ticket's assignment (a 404)."""


def may_acknowledge(actor: Actor, escalation: Escalation) -> bool:
    """Only the people an escalation was raised to: the project manager (role manager) and the engineers it names."""
    if actor.role in ESCALATION_ROLES:
        return True
    return actor.role in HOLDER_ROLES and bool(actor.engineer_id) and actor.engineer_id in escalation.notify


def authorize_acknowledge(actor: Actor, escalation: Escalation | None = None) -> None:
    """Before loading (no escalation): only a manager or an engineer could be among the people told."""
    could = actor.role in ESCALATION_ROLES | {ENGINEER_ROLE} or (actor.role in HOLDER_ROLES and bool(actor.engineer_id))
    allowed = could if escalation is None else may_acknowledge(actor, escalation)
    if not allowed:
        raise Forbidden("err.not_notified", subject=actor.subject)


AssignmentView = Literal["all", "held", "none"]


def assignment_view(actor: Actor) -> AssignmentView:
    """Which assignments (and so which tickets' data) the actor may read: engineers only what they hold."""
    if actor.role == ENGINEER_ROLE:
        return "held"
    return "all" if actor.role in READER_ROLES else "none"


def may_read(actor: Actor, a: Assignment) -> bool:
    view = assignment_view(actor)
    return view == "all" or (view == "held" and holds(actor, a))


def may_use_dispatch(actor: Actor) -> bool:
    """The gate in front of every route: requesters (and any role we do not know) have nothing to do here."""
    return actor.role in READER_ROLES


def may_read_roster(actor: Actor) -> bool:
    """The roster holds no ticket data: the whole team, auditors and services (the gateway checks engineer links)."""
    return actor.role in READER_ROLES


def may_edit_roster(actor: Actor) -> bool:
    return actor.role in DESK_ROLES


def may_set_status(actor: Actor, engineer_id: str) -> bool:
    """Engineers set only their own status (available, busy, off duty, on leave); the desk sets anyone's."""
    return actor.role in DESK_ROLES or (actor.role == ENGINEER_ROLE and bool(actor.engineer_id) and actor.engineer_id == engineer_id)


class IllegalStep(Said):
    """The step does not fit the assignment's state; carries what would fit."""

    def __init__(self, code: str, *, allowed: list[str], **params: Param) -> None:
        super().__init__(code, **params)
        self.allowed = allowed


NEXT_STEPS: dict[str, list[str]] = {
    "unassigned": ["reassign"],
    "open": ["accept", "confirm", "delay", "reassign", "escalate", "help", "complete"],
    "accepted": ["confirm", "delay", "reassign", "escalate", "help", "complete"],
    "confirmed": ["delay", "reassign", "escalate", "help", "complete"],
    # The desk reviews the record on the ticket (intake); its verdict arrives as ticket.service_record_reviewed.
    "completed": [],
    "reviewed": [],
    "withdrawn": [],
}
# The desk resolved, cancelled or closed the ticket while the work was still ahead: nobody needs to go.
WITHDRAWABLE = frozenset({"unassigned", "open", "accepted", "confirmed"})


def _require(a: Assignment, step: str) -> None:
    if step not in NEXT_STEPS[a.status]:
        raise IllegalStep("err.illegal_step", allowed=NEXT_STEPS[a.status], step=step, status=a.status)


def _with_step(
    a: Assignment, action: str, *, at: datetime, by: str, note: str | None = None, code: str | None = None,
    params: dict[str, Param] | None = None, **changes: object,
) -> Assignment:
    step = Step(action=action, at=at, by=by, engineer_id=str(changes.get("engineer_id", a.engineer_id)), note=note,
                code=code, params=params or {})
    return a.model_copy(update={**changes, "history": (*a.history, step)})


def accept(a: Assignment, *, actor: Actor, now: datetime) -> tuple[Assignment, AssignmentAcceptedV1]:
    """The engineer who holds the assignment takes it on."""
    authorize(actor, "accept", a)
    _require(a, "accept")
    updated = _with_step(a, "accepted", at=now, by=actor.subject, status="accepted")
    return updated, AssignmentAcceptedV1(
        ticket_id=a.ticket_id, assignment_id=a.id, engineer_id=a.engineer_id, accepted_at=now, by=actor.subject
    )


# An ETA a little before now is the desk's clock or typing speed, not a time already gone.
ETA_SKEW = timedelta(minutes=5)


class EtaInPast(Said, ValueError):
    """The ETA given is already past (a 422 on `eta`)."""

    def __init__(self, eta: datetime) -> None:
        super().__init__("err.eta_past", eta=eta.isoformat())


def confirm(a: Assignment, *, eta: datetime | None, actor: Actor, now: datetime) -> tuple[Assignment, AssignmentConfirmedV1]:
    """The desk confirms execution (the contract: within 30 minutes of assignment); an ETA is a time to come."""
    authorize(actor, "confirm", a)
    _require(a, "confirm")
    if eta is not None and eta < now - ETA_SKEW:
        raise EtaInPast(eta)
    params: dict[str, Param] | None = {"eta": eta.isoformat()} if eta else None
    updated = _with_step(
        a, "confirmed", at=now, by=actor.subject, note=render("eta", params, "en") if params else None,
        code="eta" if params else None, params=params, status="confirmed", eta=eta,
    )
    event = AssignmentConfirmedV1(
        ticket_id=a.ticket_id, assignment_id=a.id, engineer_id=a.engineer_id, eta=eta, confirmed_at=now, by=actor.subject
    )
    return updated, event


def reassign(
    a: Assignment, *, to: Engineer, reason: str, actor: Actor, now: datetime
) -> tuple[Assignment, TicketReassignedV1 | TicketAssignedV1]:
    """The desk moves the live assignment to another engineer: a new assignment id, the history kept. A waiting
    ticket given an engineer by the desk is a first assignment (ticket.assigned), which stops its response clocks.
    The desk may call anyone out, on duty or not (the contract: on request, on site outside hours too)."""
    authorize(actor, "reassign", a)
    return _move(a, to=to, code="desk", params={"text": reason}, by=actor.subject, now=now)


def _move(
    a: Assignment, *, to: Engineer, code: str, params: dict[str, Param], by: str, now: datetime,
) -> tuple[Assignment, TicketReassignedV1 | TicketAssignedV1]:
    """The move itself, by the desk or by dispatch re-dispatching after a delay. The score, the duty and the journey
    are the new engineer's, computed now: the old engineer's score and vehicle decision say nothing about them
    (another building needs a vehicle, the same building does not)."""
    _require(a, "reassign")
    if to.id == a.engineer_id:
        raise IllegalStep("err.same_engineer", allowed=NEXT_STEPS[a.status], engineer=to.id)
    first = a.status == "unassigned"
    mode, vehicle, note_code, note_params = visit_note_of(a.channel, a.service_code, a.site, to)
    visit_note = render(note_code, note_params, "en")
    # A person's choice (the desk's) has no score; dispatch's re-dispatch says the score it chose by.
    new_score = None if code == "desk" else score(to, skill=a.skill)
    duty: Duty = duty_name(duty_of(to, now))
    if mode == "visit" and duty == "phone":
        duty = "called_in"  # the phone on-call sent on site is called out for it, not working by phone
    if code == "redispatch":
        params = {**params, "score": round(score(to, skill=a.skill), 2), "duty": duty}
    reason = render(code, params, "en")
    updated = _with_step(
        a, "assigned" if first else "reassigned", at=now, by=by, note=reason, code=code, params=params,
        id=str(uuid.uuid4()), engineer_id=to.id, engineer_name=to.name, reason=reason, reason_code=code,
        reason_params=params, duty=duty, held_until=None, status="open", eta=None, assigned_at=now, score=new_score,
        mode=mode, vehicle=vehicle, visit_note=visit_note, visit_note_code=note_code, visit_note_params=note_params,
    )
    if first:
        return updated, TicketAssignedV1(
            ticket_id=a.ticket_id, assignment_id=updated.id, engineer_id=to.id, engineer_name=to.name, reason=reason,
            assigned_at=now, reason_code=code, reason_params=params, mode=mode, duty=duty, by=by, number=a.ticket_number,
        )
    event = TicketReassignedV1(
        ticket_id=a.ticket_id, assignment_id=updated.id, previous_engineer_id=a.engineer_id, engineer_id=to.id,
        engineer_name=to.name, reason=reason, by=by, reassigned_at=now, reason_code=code, reason_params=params,
        mode=mode, duty=duty, number=a.ticket_number,
    )
    return updated, event


def delay(
    a: Assignment, *, reason: str, cannot_go: bool, actor: Actor, roster: list[Engineer], now: datetime
) -> tuple[Assignment, list[EventData]]:
    """A late or unable engineer (or the desk they rang): record it and re-dispatch at once to the best other engineer
    who may take the work now (work on site: someone who can go). When nobody else may take it now (after hours the
    phone on-call cannot go; everyone else is away) the delay is still recorded and announced, the assignment stays
    where it is, and its last step says why and until when (the NoEngineerAvailable reason: held_after_hours with
    `until`, or no_engineer): the desk, told by assignment.delayed, decides (reassign, or the morning)."""
    authorize(actor, "delay", a)
    _require(a, "delay")
    delayed = AssignmentDelayedV1(
        ticket_id=a.ticket_id, assignment_id=a.id, engineer_id=a.engineer_id, reason=reason, cannot_go=cannot_go, delayed_at=now
    )
    noted = _with_step(a, "delayed", at=now, by=actor.subject, note=reason)
    others = [e for e in roster if e.id != a.engineer_id]
    try:
        choice = decide_engineer(a.skill, others, at=now, work=work_of(a.channel))
    except NoEngineerAvailable as nobody:
        kept = _with_step(noted, "not re-dispatched", at=now, by="dispatch", note=render(nobody.code, nobody.params, "en"),
                          code=nobody.code, params=dict(nobody.params))
        return kept, [delayed]
    updated, reassigned = _move(noted, to=choice.engineer, code="redispatch", params={**choice.params, "delay": reason},
                                by="dispatch", now=now)
    return updated, [delayed, reassigned]


def escalate(
    a: Assignment, *, kind: Literal["technical", "other"], description: str, actor: Actor, roster: list[Engineer], now: datetime
) -> tuple[Assignment, EscalationRaisedV1]:
    """An abnormal event goes to the project manager; a technical one also to a senior engineer."""
    authorize(actor, "escalate", a)
    _require(a, "escalate")
    notify = [e.id for e in roster if e.role == "project_manager"]
    if kind == "technical":
        notify += [e.id for e in roster if e.role == "senior"][:1]
    escalation = Escalation(id=str(uuid.uuid4()), kind=kind, description=description, notify=tuple(notify), raised_at=now)
    updated = _with_step(a, f"escalated ({kind})", at=now, by=actor.subject, note=description, escalations=(*a.escalations, escalation))
    event = EscalationRaisedV1(
        escalation_id=escalation.id, ticket_id=a.ticket_id, engineer_id=a.engineer_id, kind=kind,
        description=description, notify=notify, raised_at=now, engineer_name=a.engineer_name,
    )
    return updated, event


def acknowledge(a: Assignment, *, escalation_id: str, actor: Actor, now: datetime) -> tuple[Assignment, EscalationAcknowledgedV1]:
    """One of the people the escalation was raised to has it in hand (see may_acknowledge)."""
    found = [e for e in a.escalations if e.id == escalation_id]
    if not found:
        raise UnknownEscalation("err.no_escalation", escalation=escalation_id, ticket=a.ticket_id)
    authorize_acknowledge(actor, found[0])
    by = actor.subject
    if found[0].acknowledged_at is not None:
        raise IllegalStep("err.acknowledged", allowed=[], escalation=escalation_id)
    escalations = tuple(
        e.model_copy(update={"acknowledged_at": now, "acknowledged_by": by}) if e.id == escalation_id else e for e in a.escalations
    )
    updated = _with_step(a, "escalation acknowledged", at=now, by=by, escalations=escalations)
    return updated, EscalationAcknowledgedV1(escalation_id=escalation_id, ticket_id=a.ticket_id, by=by, acknowledged_at=now)


def help_request(a: Assignment, *, question: str, actor: Actor, now: datetime) -> tuple[Assignment, HelpRequestedV1]:
    """The engineer on the job asks the desk (and the knowledge base) for help."""
    authorize(actor, "help", a)
    _require(a, "help")
    updated = _with_step(a, "asked for help", at=now, by=actor.subject, note=question)
    return updated, HelpRequestedV1(ticket_id=a.ticket_id, assignment_id=a.id, engineer_id=a.engineer_id, question=question,
                                    requested_at=now, engineer_name=a.engineer_name)


def apply_review(a: Assignment, reviewed: ServiceRecordReviewedV1) -> tuple[Assignment, AssignmentReviewedV1] | None:
    """The desk's verdict on the ticket's record (intake owns the review): approved closes the assignment, returned
    gives it back to the engineer (confirmed: the work was under way). None for a redelivery, a verdict on another
    assignment of the ticket, or one on a record written at the desk, which never passed through dispatch."""
    if a.status != "completed" or a.service_record is None or a.service_record.review != "pending":
        return None
    if reviewed.assignment_id is not None and reviewed.assignment_id != a.id:
        return None
    approved = reviewed.decision == "approved"
    record = a.service_record.model_copy(update={
        "review": reviewed.decision, "review_note": reviewed.note, "reviewed_by": reviewed.by, "reviewed_at": reviewed.reviewed_at,
    })
    status: AssignmentStatus = "reviewed" if approved else "confirmed"
    updated = _with_step(
        a, "record approved" if approved else "record returned", at=reviewed.reviewed_at, by=reviewed.by, note=reviewed.note,
        status=status, service_record=record,
    )
    event = AssignmentReviewedV1(
        ticket_id=a.ticket_id, assignment_id=a.id, engineer_id=a.engineer_id, approved=approved, comment=reviewed.note,
        by=reviewed.by, reviewed_at=reviewed.reviewed_at,
    )
    return updated, event


def waiting(
    ticket: TicketCreatedV1, *, why: NoEngineerAvailable, now: datetime, assignment_id: str | None = None,
    handed_over_at: datetime | None = None,
) -> tuple[Assignment, NoEngineerAvailableV1]:
    """Nobody can take the ticket now (or it is work on site outside service hours, held for the next on-site period):
    a visible waiting record (the ticket's one assignment slot) and the event."""
    held_until = why.until if isinstance(why, OutsideServiceHours) else None
    reason = str(why)
    record = Assignment(
        id=assignment_id or str(uuid.uuid4()), handed_over_at=handed_over_at or now, ticket_id=ticket.ticket_id, ticket_number=ticket.number, engineer_id="", engineer_name="",
        reason=reason, reason_code=why.code, reason_params=why.params, held_until=held_until, score=0.0, assigned_at=now,
        status="unassigned", service_code=ticket.service_code, skill=ticket.skill, channel=ticket.channel, site=ticket.site,
        mode=work_of(ticket.channel),
        history=(Step(action="held" if held_until else "waiting", at=now, by="dispatch", engineer_id="", note=reason,
                      code=why.code, params=why.params),),
    )
    event = NoEngineerAvailableV1(
        ticket_id=ticket.ticket_id, service_code=ticket.service_code, reason=reason, at=now, reason_code=why.code,
        reason_params=why.params, held_until=held_until,
    )
    return record, event


def assign_waiting(a: Assignment, roster: list[Engineer], *, now: datetime) -> tuple[Assignment, TicketAssignedV1]:
    """A waiting ticket gets its engineer once someone who may take the work is available (raises NoEngineerAvailable
    otherwise; OutsideServiceHours while work on site is held): scored, planned and timed from now."""
    if a.status != "unassigned":
        raise IllegalStep("err.not_waiting", allowed=NEXT_STEPS[a.status], ticket=a.ticket_id)
    choice = decide_engineer(a.skill, roster, at=now, work=work_of(a.channel))
    updated, event = _move(a, to=choice.engineer, code="chosen", params=choice.params, by="dispatch", now=now)
    assert isinstance(event, TicketAssignedV1)
    return updated, event


def complete(
    a: Assignment, *, work_done: str, parts_used: tuple[PartUsed, ...] = (), minutes_on_site: int = 0, actor: Actor, now: datetime,
) -> tuple[Assignment, AssignmentCompletedV1]:
    """The engineer on the job completes with the service record; it goes to the ticket, where the desk reviews it."""
    authorize(actor, "complete", a)
    _require(a, "complete")
    record = ServiceRecord(
        work_done=work_done, parts_used=parts_used, minutes_on_site=minutes_on_site, submitted_by=actor.subject, submitted_at=now,
    )
    updated = _with_step(
        a, "completed", at=now, by=actor.subject, note=work_done, status="completed", record=work_done, service_record=record,
    )
    event = AssignmentCompletedV1(
        ticket_id=a.ticket_id, assignment_id=a.id, engineer_id=a.engineer_id, record=work_done, completed_at=now,
        work_done=work_done, parts_used=[PartUsedV1(part=p.part, sku=p.sku, quantity=p.quantity) for p in parts_used],
        minutes_on_site=minutes_on_site, site=a.site, by=actor.subject,
    )
    return updated, event


def withdraw(a: Assignment, *, status: str, by: str, now: datetime, ended_at: datetime | None = None) -> Assignment | None:
    """The assignment after the ticket left the desk's queue; None when the work is done or withdrawn already, or
    when the ticket ended before the hand-over this assignment answers (a resolution heard late, after the reopened
    ticket was sent on again: it ended the ticket's earlier life, not this one). `ended_at`: when the ticket ended,
    by intake's clock (the status change's time); now when not known."""
    ended = ended_at or now
    if a.status not in WITHDRAWABLE or (a.handed_over_at is not None and ended < a.handed_over_at):
        return None
    params: dict[str, Param] = {"status": status, "by": by}
    note = render("withdrawn", params, "en")
    escalations = tuple(
        e.model_copy(update={"closed_at": now, "closed_reason": note}) if e.is_open else e for e in a.escalations
    )
    return _with_step(a, "withdrawn", at=now, by="desk", note=note, code="withdrawn",
                      params=params, status="withdrawn", ticket_ended_at=ended, escalations=escalations)


def reopen_for_engineer(a: Assignment, *, by: str, reason: str, reopened_at: datetime) -> Assignment | None:
    """The ticket the engineer's work resolved was reopened (ticket.reopened; intake gives it back to them in progress):
    the assignment is theirs again, under way (confirmed), so they complete it again with a new service record.
    None for anything else: a withdrawn one (the desk resolved the ticket; its reopened hand-over opens the slot anew,
    see reopens), one still in work, or a redelivery (the reopen is on the history already, at intake's time)."""
    if a.status not in ("completed", "reviewed") or not a.engineer_id:
        return None
    if any(s.action == "reopened" and s.at == reopened_at for s in a.history):
        return None
    return _with_step(a, "reopened", at=reopened_at, by=by, note=reason, status="confirmed")


def withdrawn_before_assignment(
    *, ticket_id: str, number: str, status: str, by: str, now: datetime, ended_at: datetime | None = None
) -> Assignment:
    """A ticket resolved before its ticket.created reached dispatch: remembered, so the late event assigns nobody."""
    params: dict[str, Param] = {"status": status, "by": by}
    reason = render("withdrawn", params, "en")
    return Assignment(
        id=f"withdrawn-{ticket_id}", ticket_id=ticket_id, ticket_number=number, engineer_id="", engineer_name="",
        reason=reason, reason_code="withdrawn", reason_params=params, score=0.0, assigned_at=now, status="withdrawn",
        ticket_ended_at=ended_at or now,
        history=(Step(action="withdrawn", at=now, by="desk", engineer_id="", note=reason, code="withdrawn", params=params),),
    )


def ended_at(a: Assignment) -> datetime | None:
    """When the ticket ended, withdrawing the assignment (a record from before the field: its withdrawal step's time)."""
    if a.status != "withdrawn":
        return None
    return a.ticket_ended_at or next((s.at for s in reversed(a.history) if s.action == "withdrawn"), a.assigned_at)


def reopens(a: Assignment, *, handed_over_at: datetime) -> bool:
    """Whether a hand-over opens a withdrawn assignment anew: it came after the ticket ended (the ticket was reopened
    and sent on again). One from before (a late ticket.created, a redelivered hand-over) assigns nobody; on a tie the
    withdrawal wins."""
    ended = ended_at(a)
    return ended is not None and handed_over_at > ended


def reopened(withdrawn: Assignment, fresh: Assignment) -> Assignment:
    """The ticket's one assignment slot taken by the new hand-over's assignment (`fresh`, from assign or waiting): its
    engineer, reason, plan and clocks are the new ones; the history and escalations so far are kept for the record."""
    return fresh.model_copy(update={
        "history": (*withdrawn.history, *fresh.history), "escalations": withdrawn.escalations, "version": withdrawn.version,
    })


DEMO_ROSTER: tuple[Engineer, ...] = (
    Engineer(id="eng-onsite-1", name="陈志强", role="onsite", skills=("desktop", "printer", "network"), home_site="主楼", shifts=OFFICE_HOURS),
    Engineer(id="eng-onsite-2", name="李嘉欣", role="onsite", skills=("desktop", "application", "printer"), home_site="主楼", shifts=OFFICE_HOURS),
    # The mobile engineer also holds the phone on-call outside office hours.
    Engineer(id="eng-mobile-1", name="黄伟明", role="mobile", skills=("desktop", "network", "server"), home_site="副楼", shifts=OFFICE_HOURS + PHONE_OUTSIDE_OFFICE),
    Engineer(id="eng-senior-1", name="张国华", role="senior", skills=("server", "network", "security")),
    Engineer(id="eng-pm-1", name="刘美玲", role="project_manager", skills=()),
)
# The same people always on site (no rota): what test stacks seed, so a ticket is assigned whatever the hour.
DEMO_ROSTER_ALWAYS_ON_SITE: tuple[Engineer, ...] = tuple(e.model_copy(update={"shifts": ()}) for e in DEMO_ROSTER)
