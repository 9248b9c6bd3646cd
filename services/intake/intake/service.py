"""Desk use cases: load through a port, decide in the domain, store the change with its events, relay them, and keep
this replica's search index current."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsdesk_shared.contracts import (
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    AssignmentWithdrawnV1,
    Envelope,
    EscalationRaisedV1,
    HelpRequestedV1,
    NoEngineerAvailableV1,
    Requester,
    TicketAssignedV1,
    TicketReassignedV1,
)
from opsdesk_shared.contracts.cmdb import InspectionRecordedV1, SpareIssueRefusedV1
from opsdesk_shared.contracts.envelope import EventData
from opsdesk_shared.contracts.reasons import local_time_with_offset, render_reason
from opsdesk_shared.errors import OutcomeUnknown, Unavailable
from opsdesk_shared.mongo import read_back

from . import authorization, desk_first, domain, known_tags, lifecycle, messages, people, service_record
from .access import can_see, may_thread, require
from .catalog_cache import Catalog
from .domain import DESK, Actor, NewTicket, Suggestion, Ticket, handled
from .known_tags import KnownTags
from .mail import Mail
from .oversight import desk_acts
from .ports import (
    AssetsUnavailable,
    ConcurrentUpdate,
    Decided,
    EventOutbox,
    MailSenders,
    PendingHandovers,
    People,
    TicketStore,
)
from .search import TicketIndex
from .texts import Said

if TYPE_CHECKING:
    from .authorization_service import AssetTypeOf, StandingStore
    from .oversight.service import Incidents

log = logging.getLogger(__name__)
PRODUCER = "intake"
NUMBER_ATTEMPTS = 5
CHANGE_ATTEMPTS = 5
KNOWLEDGE = Actor(subject="knowledge", name="Knowledge base", role="agent", source="bus")
ASSETS = Actor(subject="assets", name="Assets", role="agent", source="bus")


class TicketNotFound(LookupError):
    """No such ticket, or one the actor may not see (the two answer alike, so ids do not leak)."""


class IdempotencyKeyReused(ValueError):
    """An Idempotency-Key replayed with a different request body (the IETF Idempotency-Key draft: 422)."""


class Desk:
    """The desk's ports in one place, so each use case takes one argument for them."""

    def __init__(
        self, *, store: TicketStore, outbox: EventOutbox, catalog: Catalog, index: TicketIndex, tags: KnownTags | None = None,
        handovers: PendingHandovers | None = None, guidance_window: timedelta = timedelta(minutes=5),
        people: People | None = None, standing: StandingStore | None = None, asset_type_of: AssetTypeOf | None = None,
        incidents: Incidents | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.catalog = catalog
        self.index = index
        # The asset tags assets announced (known_tags); None: nothing to check a ticket's tag against.
        self.tags = tags
        # Desk-first tickets' due times (handover.py); None (tools): desk-first tickets wait for the agent to send them.
        self.handovers = handovers
        self.guidance_window = guidance_window
        # Who the people named in dispatch's events are (people.py); None: they are kept as the events name them.
        self.people = people
        # The agency's standing authorizations (authorization_service.py) and the type of an asset by its tag (assets):
        # None: no ticket is covered by one, it waits for the agency's decision.
        self.standing = standing
        self.asset_type_of = asset_type_of
        # Security incidents (oversight/): a desk act refused on a ticket the agency has not authorized is recorded
        # there. None (tools): refused only.
        self.incidents = incidents

    @classmethod
    def on(cls, store: TicketStore, outbox: EventOutbox, *, catalog: Catalog | None = None, index: TicketIndex | None = None) -> Desk:
        """A desk over a store and an outbox with the seeded catalog and a fresh index: for tests and tools."""
        return cls(store=store, outbox=outbox, catalog=catalog or Catalog.preloaded(), index=index or TicketIndex())


def _wrap(events: list[EventData], ticket_id: str, *, correlation_id: str, now: datetime) -> list[Envelope]:
    return [
        Envelope.wrap(e, producer=PRODUCER, correlation_id=correlation_id, subject_id=ticket_id, occurred_at=now)
        for e in events
    ]


async def open_ticket(
    cmd: NewTicket,
    *,
    desk: Desk,
    now: datetime,
    correlation_id: str,
    actor: Actor = DESK,
    idempotency_key: str | None = None,
) -> tuple[Ticket, bool]:
    """Record a ticket and announce it; returns (ticket, created). A replayed Idempotency-Key returns the original."""
    require(actor, "create")
    cmd = domain.reported_by(cmd, actor)
    if cmd.priority is not None:
        require(actor, "override_priority")
    service = desk.catalog.get(cmd.service_code)
    domain.check_new_ticket(cmd, service=service, now=now)
    standing_id = await _standing_for(cmd, desk=desk, now=now) if service is not None and service.requires_authorization else None
    if actor.source != "bus":  # a ticket from an event (an inspection) names the tag assets itself announced
        await known_tags.require_known(cmd.asset_tag, desk.tags)
    # Keys are scoped to the caller: two clients choosing the same key get two tickets.
    ticket_id = domain.ticket_id_for(f"{actor.subject}\x1f{idempotency_key}" if idempotency_key else None)
    fingerprint = hashlib.sha256(cmd.model_dump_json().encode()).hexdigest() if idempotency_key else None
    # A replayed key is found by the insert (the key makes the id), not by a read before it (issue 17: one command
    # a ticket); the number drawn for the replay is given back, so the next ticket takes it.
    series = domain.number_series(now)
    for _ in range(NUMBER_ATTEMPTS):
        seq = await desk.store.next_number(series)
        number = domain.format_number(series, seq)
        ticket, created = domain.open_ticket(
            cmd, service=service, ticket_id=ticket_id, number=number, now=now, actor=actor, standing_id=standing_id,
        )
        if fingerprint is not None:
            ticket = ticket.model_copy(update={"request_fingerprint": fingerprint})
        event = Envelope.wrap(created, producer=PRODUCER, correlation_id=correlation_id, subject_id=ticket.id, occurred_at=now)
        # A standing authorization that covered it is announced beside ticket.created (authorization.on_creation).
        beside = _wrap(authorization.on_creation(ticket, service=service), ticket.id, correlation_id=correlation_id, now=now)
        if ticket.desk_first and desk.handovers is not None:
            # Before the ticket: a crash between the two leaves a due time without a ticket (dropped by the checker),
            # never a desk-first ticket nobody sends on.
            await desk.handovers.put(ticket.id, desk_first.due_at(ticket, window=desk.guidance_window))
        try:
            added = await desk.store.add(ticket, [event, *beside])
        except OutcomeUnknown:
            # The connection died with the insert in flight: read back before answering (issue 14, defect 4). Ours
            # if the stored ticket has our number; Unavailable (503) while the database stays silent.
            stored = await read_back(lambda: desk.store.get(ticket_id))
            if stored is None:
                raise Unavailable("the database did not take the ticket; nothing was stored") from None
            added = stored.number == ticket.number
        if added:
            desk.index.upsert(ticket)
            desk.index.mark_local([str(e.event_id) for e in (event, *beside)])
            await desk.outbox.deliver(ticket.id, [event, *beside])
            return ticket, True
        if (existing := await desk.store.get(ticket_id)) is not None:
            # A replay (or the same Idempotency-Key winning a race): whatever the first attempt stored with the ticket
            # and could not send (it died, or its database did) goes out now, not at the next full sweep (issue 14,
            # defect 3).
            desk.store.release_number(series, seq)
            _same_request(existing, fingerprint)
            await desk.outbox.relay_now(ticket_id)
            return existing, False
        # Otherwise the number was taken (another replica on a store without atomic counters): draw again.
    raise RuntimeError(f"could not draw a free ticket number in {series}")


async def _standing_for(cmd: NewTicket, *, desk: Desk, now: datetime) -> str | None:
    """The id of the agency's standing authorization that covers a ticket being recorded (its service requires
    authorization); None: the ticket waits for the agency. The asset's type is asked only when a standing
    authorization of the service names asset types; assets not answering leaves such a one out (the ticket waits)."""
    if desk.standing is None:
        return None
    candidates = await desk.standing.list(service_code=cmd.service_code)
    if not candidates:
        return None
    asset_type: str | None = None
    if cmd.asset_tag and desk.asset_type_of is not None and any(s.asset_types for s in candidates):
        try:
            asset_type = await desk.asset_type_of(cmd.asset_tag)
        except AssetsUnavailable:
            asset_type = None
    found = authorization.covering(
        candidates, service_code=cmd.service_code, department=cmd.requester.department, asset_type=asset_type,
        today=authorization.local_day(now),
    )
    return found.id if found is not None else None


def _same_request(existing: Ticket, fingerprint: str | None) -> None:
    """A replay must carry the request the key was first used with; a ticket stored before fingerprints is let be."""
    if fingerprint is not None and existing.request_fingerprint is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(Said("err.idempotency_key_reused"))


# How people name a ticket on the phone (INC-2026-000009); anything else is taken as the ticket's id.
TICKET_NUMBER = re.compile(r"^[A-Za-z]{2,8}-\d{4}-\d{6,}$")


async def ticket_id_of(ref: str, *, desk: Desk) -> str:
    """The ticket's id for an id or a ticket number: the one place a number becomes an id, so every
    /tickets/{id}/... route takes either. The index knows every number; the store answers for a ticket this
    replica's index has not heard of yet. An unknown number stays as given and is then not found."""
    if not TICKET_NUMBER.match(ref):
        return ref
    number = ref.upper()
    if (found := desk.index.id_of_number(number)) is not None:
        return found
    ticket = await desk.store.by_number(number)
    return ticket.id if ticket is not None else ref


async def get_ticket(ticket_id: str, *, desk: Desk, actor: Actor) -> Ticket:
    ticket_id = await ticket_id_of(ticket_id, desk=desk)
    ticket = await desk.store.get(ticket_id)
    if ticket is None or not can_see(actor, ticket):
        raise TicketNotFound(ticket_id)
    return ticket


Step = Callable[[Ticket], lifecycle.Changed]


async def act(
    ticket_id: str,
    step: Step,
    *,
    desk: Desk,
    actor: Actor,
    now: datetime,
    correlation_id: str,
    expected_version: int | None = None,
    attempts: int = CHANGE_ATTEMPTS,
) -> Ticket:
    """Apply one lifecycle step: visible to the actor, at the version they read (If-Match), stored with its events."""
    ticket_id = await ticket_id_of(ticket_id, desk=desk)
    envelopes: list[Envelope] = []
    refused_on: Ticket | None = None

    def decide(ticket: Ticket) -> Decided | None:
        nonlocal envelopes, refused_on
        if not can_see(actor, ticket):
            raise TicketNotFound(ticket_id)
        lifecycle.check_version(ticket, expected_version)
        try:
            updated, events = step(ticket)
        except lifecycle.IllegalTransition:
            refused_on = ticket
            raise
        if not events and updated is ticket:
            return None
        updated = handled(updated, actor)  # a desk person's act makes it theirs ("mine")
        envelopes = _wrap(events, ticket.id, correlation_id=correlation_id, now=now)
        return updated, envelopes

    for _ in range(attempts):
        try:
            stored = await desk.store.change(ticket_id, decide)
        except lifecycle.IllegalTransition as exc:
            # Refused as always; an act of the desk on work the agency has not authorized is a security incident too.
            if refused_on is not None and desk.incidents is not None:
                await desk_acts.report_refused_act(
                    refused_on, actor=actor, act=f"ticket.status:{exc.target}", incidents=desk.incidents, now=now,
                    correlation_id=correlation_id,
                )
            raise
        except LookupError as exc:
            if isinstance(exc, TicketNotFound):
                raise
            raise TicketNotFound(ticket_id) from None
        except ConcurrentUpdate:
            if expected_version is not None:
                current = await desk.store.get(ticket_id)
                raise lifecycle.StaleVersion(expected_version, current.version if current else -1) from None
            continue
        if stored is None:
            return await get_ticket(ticket_id, desk=desk, actor=actor)
        desk.index.upsert(stored)
        if envelopes:
            desk.index.mark_local(str(e.event_id) for e in envelopes)
            await desk.outbox.deliver(stored.id, envelopes)
        return stored
    raise ConcurrentUpdate(f"ticket {ticket_id} kept changing")


async def _apply_quietly(
    ticket_id: str, decide: Callable[[Ticket], Ticket | None], *, desk: Desk, attempts: int = CHANGE_ATTEMPTS
) -> Ticket | None:
    """A change other services announced already (an assignment, suggestions): no event of ours. Nothing on the
    stream brings it to the index after a crash between the write and the index, so the index marks the ticket
    first (a mark left behind is read again at the next start: index_feed; fault campaign run 8 left a row a
    version behind)."""
    desk.index.mark_dirty(ticket_id)
    for _ in range(attempts):
        try:
            stored = await desk.store.change(ticket_id, lambda t: (u, []) if (u := decide(t)) is not None else None)
        except ConcurrentUpdate:
            continue
        if stored is not None:
            desk.index.upsert(stored)
        desk.index.clear_dirty(ticket_id)
        return stored
    raise ConcurrentUpdate(f"ticket {ticket_id} kept changing")


async def _apply_announced(
    ticket_id: str, decide: Callable[[Ticket], lifecycle.Changed | None], *, desk: Desk, now: datetime,
    correlation_id: str, actor: Actor = domain.DISPATCH, attempts: int = CHANGE_ATTEMPTS,
) -> bool:
    """A change another service decided (an assignment, a withdrawal) that moves the ticket through its own
    transition table: stored with the events it announces. True when the ticket changed. `actor` is the service
    relaying it (it sees every ticket); who acted, as the history shows them, is inside `decide`."""
    changed = False

    def step(ticket: Ticket) -> lifecycle.Changed:
        nonlocal changed
        decided = decide(ticket)
        changed = decided is not None
        return decided if decided is not None else (ticket, [])

    try:
        await act(ticket_id, step, desk=desk, actor=actor, now=now, correlation_id=correlation_id, attempts=attempts)
    except TicketNotFound:
        # Not a person's lookup: the bus edge retries, then dead-letters an event about a ticket we do not have.
        raise LookupError(f"ticket {ticket_id} not found") from None
    return changed


async def record_assignment(
    event: TicketAssignedV1, *, desk: Desk, attempts: int = CHANGE_ATTEMPTS, correlation_id: str | None = None
) -> bool:
    """Dispatch assigned someone: show it on the ticket (a new ticket becomes assigned, announced). Idempotent;
    True when the ticket changed. The history names who decided: dispatch, or the desk agent who gave a waiting
    ticket its engineer (`by`)."""
    actor = await people.who(desk.people, event.by)
    return await _apply_announced(
        event.ticket_id, lambda t: lifecycle.assign(t, event, actor=actor), desk=desk, now=event.assigned_at,
        correlation_id=correlation_id or event.ticket_id, attempts=attempts,
    )


async def record_reassignment(moved: TicketReassignedV1, *, desk: Desk, correlation_id: str | None = None) -> bool:
    """Dispatch sent someone else (a delay, or the desk moved it): show the new engineer; tell the requester in
    their words (a template naming the new engineer, nothing more), and keep the reason (an engineer's delay
    reason, dispatch's scoring, a desk agent's reassign reason) as a work note for staff. Once per reassignment.
    The history names who moved it: the desk agent (`by`, with their account's name), or dispatch for its own
    re-dispatch after a delay; the requester's notice is the desk's, naming nobody."""
    actor = await people.who(desk.people, moved.by)
    as_assigned = TicketAssignedV1(
        ticket_id=moved.ticket_id, assignment_id=moved.assignment_id, engineer_id=moved.engineer_id,
        engineer_name=moved.engineer_name, reason=moved.reason, assigned_at=moved.reassigned_at,
        reason_code=moved.reason_code, reason_params=moved.reason_params,
    )

    def decide(ticket: Ticket) -> lifecycle.Changed | None:
        assigned, events = lifecycle.assign(ticket, as_assigned, actor=actor) or (ticket, [])
        said = messages.render(
            "reassigned", messages.requester_language(ticket), number=ticket.number, engineer=moved.engineer_name
        )
        # People by name; the ids stay in the assignment's history.
        previous = _engineer_named(ticket, moved.previous_engineer_id)
        why = f"改派 / reassigned by {actor.name or actor.subject}: {previous} → {moved.engineer_name or moved.engineer_id}; {moved.reason}"
        told = lifecycle.tell_requester(
            assigned, comment_id=f"reassigned-{moved.assignment_id}", body=said, actor=DESK, now=moved.reassigned_at
        )
        noted = lifecycle.note_for_staff(
            told or assigned, comment_id=f"reassigned-{moved.assignment_id}-reason", body=why, actor=actor,
            now=moved.reassigned_at,
        )
        result = noted or told or assigned
        return (result, events) if result is not ticket else None

    return await _apply_announced(
        moved.ticket_id, decide, desk=desk, now=moved.reassigned_at, correlation_id=correlation_id or moved.ticket_id,
    )


async def record_acceptance(accepted: AssignmentAcceptedV1, *, desk: Desk, correlation_id: str | None = None) -> bool:
    """The engineer accepted the job: the ticket shows it and goes into work (its requester can no longer cancel);
    the history names the engineer. Idempotent."""
    actor = await people.who(desk.people, accepted.by, engineer_id=accepted.engineer_id, role="engineer")
    return await _apply_announced(
        accepted.ticket_id,
        lambda t: lifecycle.assignee_accepted(t, assignment_id=accepted.assignment_id, accepted_at=accepted.accepted_at, actor=actor),
        desk=desk, now=accepted.accepted_at, correlation_id=correlation_id or accepted.ticket_id,
    )


async def record_confirmation(confirmed: AssignmentConfirmedV1, *, desk: Desk, correlation_id: str | None = None) -> bool:
    """The desk confirmed the engineer is going, with an ETA: the ticket shows both to its requester; the history
    names the agent who confirmed. Idempotent."""
    actor = await people.who(desk.people, confirmed.by)
    return await _apply_announced(
        confirmed.ticket_id,
        lambda t: lifecycle.assignee_confirmed(
            t, assignment_id=confirmed.assignment_id, confirmed_at=confirmed.confirmed_at, eta=confirmed.eta, actor=actor
        ),
        desk=desk, now=confirmed.confirmed_at, correlation_id=correlation_id or confirmed.ticket_id,
    )


async def record_withdrawal(withdrawn: AssignmentWithdrawnV1, *, desk: Desk, correlation_id: str | None = None) -> bool:
    """Dispatch withdrew the engineer: the ticket marks the assignment withdrawn. Idempotent; True when it changed."""
    return await _apply_announced(
        withdrawn.ticket_id, lambda t: lifecycle.withdraw_assignee(t, withdrawn), desk=desk, now=withdrawn.withdrawn_at,
        correlation_id=correlation_id or withdrawn.ticket_id,
    )


def _noted(ticket: Ticket | None) -> lifecycle.Changed | None:
    """A work note is the ticket's own record, not a change others follow: stored, announced to nobody."""
    return (ticket, []) if ticket is not None else None


def _engineer_named(ticket: Ticket, engineer_id: str, named: str | None = None) -> str:
    """An engineer as the desk's notes name them: the name the ticket holds for its assignee, else the event's, else
    the roster id (walk 15 read roster ids and usernames in these notes)."""
    holder = ticket.assignee
    if holder is not None and holder.engineer_id == engineer_id and holder.engineer_name:
        return holder.engineer_name
    return named or engineer_id


async def record_help_request(
    asked: HelpRequestedV1, *, event_id: str, desk: Desk, correlation_id: str | None = None
) -> bool:
    """The engineer on the job asked for help (through dispatch): the question is a work note the desk reads on the
    ticket, never its requester. Once per request event; True when the ticket changed."""
    def decide(ticket: Ticket) -> lifecycle.Changed | None:
        who = _engineer_named(ticket, asked.engineer_id, asked.engineer_name)
        body = f"工程师求助 / help requested by {who}: {asked.question}"
        return _noted(lifecycle.note_for_staff(ticket, comment_id=f"help-{event_id}", body=body, actor=domain.DISPATCH,
                                               now=asked.requested_at))

    return await _apply_announced(
        asked.ticket_id, decide, desk=desk, now=asked.requested_at, correlation_id=correlation_id or asked.ticket_id
    )


ESCALATION_KINDS = {"technical": "技术问题 / technical", "other": "其他异常 / other"}


async def record_escalation(
    raised: EscalationRaisedV1, *, event_id: str, desk: Desk, correlation_id: str | None = None
) -> bool:
    """The engineer escalated to the project manager (through dispatch): a work note the desk reads on the ticket (the
    escalation clock alone said nothing of why, walk 15), never its requester. Once per event; True when changed."""
    def decide(ticket: Ticket) -> lifecycle.Changed | None:
        who = _engineer_named(ticket, raised.engineer_id, raised.engineer_name)
        kind = ESCALATION_KINDS.get(raised.kind, raised.kind)
        body = f"工程师升级 / escalated by {who} ({kind}): {raised.description}"
        return _noted(lifecycle.note_for_staff(ticket, comment_id=f"escalation-{event_id}", body=body, actor=domain.DISPATCH,
                                               now=raised.raised_at))

    return await _apply_announced(
        raised.ticket_id, decide, desk=desk, now=raised.raised_at, correlation_id=correlation_id or raised.ticket_id
    )


async def record_unassigned(
    unassigned: NoEngineerAvailableV1, *, event_id: str, desk: Desk, correlation_id: str | None = None
) -> bool:
    """Dispatch could give the ticket to nobody yet (assignment.unassigned): the desk reads why as a work note, with a
    hold's end on the site's clock (work on site outside service hours waits for the on-site shift); the requester of
    a held ticket is told in their words when an engineer comes. Once per event; True when the ticket changed."""
    if unassigned.reason_code:
        why = render_reason(unassigned.reason_code, unassigned.reason_params, "zh-CN")
    else:
        why = unassigned.reason
    held = unassigned.held_until

    def decide(ticket: Ticket) -> lifecycle.Changed | None:
        if held is None:
            body = f"待派工：{why}"  # the desk's words (walk 6a: an English half followed the Chinese)
        else:
            until = local_time_with_offset(held)
            body = f"等待驻场班次（{until}）：{why}"
        noted = lifecycle.note_for_staff(ticket, comment_id=f"unassigned-{event_id}", body=body, actor=domain.DISPATCH,
                                         now=unassigned.at)
        told = None
        if held is not None:
            said = messages.render("held_for_onsite", messages.requester_language(ticket), number=ticket.number,
                                   at=messages.local_time(held))
            told = lifecycle.tell_requester(noted or ticket, comment_id=f"held-{event_id}", body=said, actor=domain.DESK,
                                            now=unassigned.at)
        return _noted(told or noted)

    return await _apply_announced(
        unassigned.ticket_id, decide, desk=desk, now=unassigned.at, correlation_id=correlation_id or unassigned.ticket_id
    )


async def record_spare_refusal(refused: SpareIssueRefusedV1, *, desk: Desk, correlation_id: str | None = None) -> bool:
    """Assets could not issue some stock parts of the engineer's service record (unknown at the site, not enough):
    a work note tells the desk which and why, once per completion. True when the ticket changed."""
    # Kept as a template and its values, read in each reader's language (messages.staff_note); the body is zh-CN.
    params: dict[str, Any] = {
        "site": refused.site or "",
        "lines": [{"part": line.part or line.sku, "quantity": line.quantity, "reason": line.reason} for line in refused.refused],
    }
    body = messages.staff_note("spares_refused", params, "zh-CN")
    return await _apply_announced(
        refused.ticket_id,
        lambda t: _noted(lifecycle.note_for_staff(t, comment_id=f"spares-refused-{refused.completion_event_id}", body=body,
                                                  actor=ASSETS, now=refused.refused_at, text_key="spares_refused",
                                                  text_params=params)),
        desk=desk, now=refused.refused_at, correlation_id=correlation_id or refused.ticket_id, actor=ASSETS,
    )


async def record_suggestions(ticket_id: str, suggestions: list[Suggestion], *, desk: Desk, now: datetime) -> bool:
    """Knowledge's suggested articles, shown to the desk beside the ticket."""
    stored = await _apply_quietly(
        ticket_id, lambda t: lifecycle.attach_suggestions(t, suggestions, actor=KNOWLEDGE, now=now), desk=desk
    )
    return stored is not None


async def refresh_index(ticket_id: str, *, desk: Desk) -> None:
    """Another replica (or this one) changed a ticket: read it back into this replica's index."""
    ticket = await desk.store.get(ticket_id)
    if ticket is None:
        desk.index.remove(ticket_id)
    else:
        desk.index.upsert(ticket)


async def rebuild_index(*, desk: Desk) -> int:
    """Build a fresh index from the database beside the live one, then swap; tickets stream through one at a time,
    so the full records are never all in memory together."""
    fresh = TicketIndex()
    desk.index.start_reload()
    async for ticket in desk.store.scan():
        fresh.upsert(ticket)
    for ticket_id in desk.index.take(fresh):
        await refresh_index(ticket_id, desk=desk)  # changed while the scan ran: the fresh copy may be older
    return len(fresh)


async def receive_mail(
    mail: Mail, *, desk: Desk, senders: MailSenders, actor: Actor, now: datetime, correlation_id: str, service_code: str
) -> tuple[Ticket, str]:
    """A mail to the desk: a reply threads onto its ticket as a comment when its sender may speak there (the ticket's
    requester or a known staff address, see access.may_thread); anything else opens a ticket, never a comment on
    someone else's (ticket numbers are sequential, so a number in a subject proves nothing).
    Returns the ticket and what happened: created, threaded or duplicate (a redelivered mail)."""
    quoted: str | None = None
    if mail.ticket_number is not None:
        existing = await desk.store.get(await ticket_id_of(mail.ticket_number, desk=desk))
        if existing is not None and existing.status not in ("closed", "cancelled"):
            account = await senders.email_of(existing.requester_id) if existing.requester_id else None
            staff = await senders.staff(mail.from_address)
            if may_thread(existing, sender=mail.from_address, requester_account_email=account, staff=staff):
                return await _thread(existing, mail, desk=desk, actor=actor, now=now, correlation_id=correlation_id)
            quoted = existing.number
    cmd = NewTicket(
        title=(mail.subject or "(no subject)")[:200],
        description=mail.reply[:10_000] or mail.body[:10_000],
        requester=Requester(name=mail.from_name, email=mail.from_address),
        channel="email",
        service_code=service_code,
    )
    ticket, created = await open_ticket(
        cmd, desk=desk, now=now, correlation_id=correlation_id, actor=actor, idempotency_key=f"mail:{mail.message_id}"
    )
    if created:

        def remember(t: Ticket) -> lifecycle.Changed:
            # Later replies quote this mail's id; remember it so a redelivery of it is recognised as well.
            t = t.model_copy(update={"mail_ids": (*t.mail_ids, mail.message_id)})
            if quoted is None:
                return t, []
            note = (
                f"此郵件標題引用了工單 {quoted},但寄件人 {mail.from_address} 不是該工單的報修人或已知的服務人員,"
                f"因此另開本工單。 / This mail quoted {quoted} in its subject, but its sender {mail.from_address} is "
                f"neither that ticket's requester nor a known staff address, so it opened this ticket instead."
            )
            noted, _, events = lifecycle.add_comment(t, actor=actor, now=now, body=note, internal=True)
            return noted, events

        ticket = await act(ticket.id, remember, desk=desk, actor=actor, now=now, correlation_id=correlation_id)
    return ticket, "created" if created else "duplicate"


async def _thread(ticket: Ticket, mail: Mail, *, desk: Desk, actor: Actor, now: datetime, correlation_id: str) -> tuple[Ticket, str]:
    body = f"{mail.from_name} <{mail.from_address}>:\n{mail.reply or mail.subject}"[:10_000]

    def step(t: Ticket) -> lifecycle.Changed:
        threaded = lifecycle.thread_mail(t, message_id=mail.message_id, actor=actor, now=now, body=body)
        return threaded if threaded is not None else (t, [])

    before = ticket.version
    stored = await act(ticket.id, step, desk=desk, actor=actor, now=now, correlation_id=correlation_id)
    return stored, "threaded" if stored.version != before else "duplicate"


INSPECTIONS = Actor(subject="assets", name="Inspections", role="agent", source="bus")
FALLBACK_FOLLOW_UP = "RS-ONSITE"


async def open_for_inspection(
    recorded: InspectionRecordedV1, *, desk: Desk, now: datetime, correlation_id: str
) -> tuple[Ticket, bool] | None:
    """An inspection finding that needs work becomes a ticket, once per inspection; None when nothing needs work."""
    request = recorded.ticket
    if not recorded.needs_work or request is None:
        return None
    service_code = request.service_code if desk.catalog.get(request.service_code) else FALLBACK_FOLLOW_UP
    cmd = NewTicket(
        title=request.title[:200], description=request.description[:10_000],
        requester=Requester(name=f"巡檢 {recorded.performed_by}"[:100], department=request.department),
        channel="api", service_code=service_code, asset_tag=request.asset_tag, site=request.site,
    )
    return await open_ticket(
        cmd, desk=desk, now=now, correlation_id=correlation_id, actor=INSPECTIONS,
        idempotency_key=f"inspection:{recorded.inspection_id}",
    )


async def record_completion(completed: AssignmentCompletedV1, *, desk: Desk, now: datetime, correlation_id: str) -> bool:
    """The engineer completed through dispatch: the service record lands on the ticket for the desk's review (see
    `service_record`). Idempotent; True when the ticket changed. An unknown ticket raises TicketNotFound."""
    # The engineer as identity knows them (dispatch verified the caller): the record and the history carry their name.
    engineer = await people.who(desk.people, completed.by, engineer_id=completed.engineer_id, role="engineer")
    if engineer is domain.DISPATCH:
        engineer = service_record.engineer_of(completed)

    def step(ticket: Ticket) -> lifecycle.Changed:
        received = service_record.receive(ticket, completed, engineer=engineer)
        return received if received is not None else (ticket, [])

    before = await desk.store.get(completed.ticket_id)
    stored = await act(completed.ticket_id, step, desk=desk, actor=domain.DISPATCH, now=now, correlation_id=correlation_id)
    return before is None or stored.version != before.version
