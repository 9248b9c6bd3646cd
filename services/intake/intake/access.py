"""Who may see and do what with a ticket. Requesters see their own and their department's tickets, engineers what
they hold, auditors and the agency (信息中心) everything without changing anything (the agency decides only what is
its own: authorizations of work, authorization.py); the desk (agent, manager, admin) runs the lifecycle.

Closing and the satisfaction score belong to the ticket's own requester (issue 12, finding 11): a department
colleague sees the ticket but does not close or rate it, an engineer never closes the work they are rated on, and
the desk may close a ticket (e.g. a requester who never answers) but does not enter a score on anyone's behalf."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from opsdesk_shared.hanzi import same_text
from opsdesk_shared.roles import AGENCY_ROLE, AUDITOR_ROLE, DESK_ROLES, reads_everything

from .texts import Said

if TYPE_CHECKING:
    from .domain import Actor, Ticket

Action = Literal[
    "create", "edit", "override_priority", "work", "resolve_at_desk", "cancel", "close", "reopen", "comment",
    "internal_note", "service_record", "review", "read_history", "rate",
]
ENGINEER_ACTIONS: frozenset[str] = frozenset({"work", "comment", "internal_note", "service_record", "read_history"})
REQUESTER_ACTIONS: frozenset[str] = frozenset({"create", "comment", "close", "rate", "reopen", "cancel"})
# Acts on a ticket that only its own requester may do; seeing it through the department is not enough.
OWNER_ONLY: frozenset[str] = frozenset({"close", "rate"})


class Forbidden(Exception):
    """The actor may not do this; the edge answers 403 (or 404 when they may not even see the ticket)."""


def holds(actor: Actor, ticket: Ticket) -> bool:
    """The actor is the roster engineer the ticket is assigned to. Compared on the roster link of their account,
    never on the username: a user whose name happens to equal some engineer id is not that engineer."""
    return (
        actor.engineer_id is not None and ticket.assignee is not None and ticket.assignee.active
        and ticket.assignee.engineer_id == actor.engineer_id
    )


def before_work(ticket: Ticket) -> bool:
    """Nobody has started on the ticket: it is new, or assigned and the engineer has not accepted it yet (their
    acceptance arrives from dispatch as assignment.accepted). Until then the requester may still call it off."""
    if ticket.status == "new":
        return True
    return ticket.status == "assigned" and (ticket.assignee is None or ticket.assignee.accepted_at is None)


def own(actor: Actor, ticket: Ticket) -> bool:
    return ticket.requester_id is not None and ticket.requester_id == actor.subject


def can_see(actor: Actor, ticket: Ticket) -> bool:
    if reads_everything(actor.role):
        return True
    if actor.role == "engineer":
        return holds(actor, ticket)
    # Script-folded: an account of 财务科 sees its department's tickets written 財務科 (the index's filter agrees).
    return own(actor, ticket) or same_text(actor.department, ticket.requester.department)


def require(actor: Actor, action: Action, ticket: Ticket | None = None) -> None:
    if actor.role == AUDITOR_ROLE:
        raise Forbidden(Said("err.auditor_readonly"))
    if actor.role == AGENCY_ROLE:
        raise Forbidden(Said("err.agency_readonly"))
    if actor.role in DESK_ROLES:
        if action == "rate":
            raise Forbidden(Said("err.rate_own"))
        return
    if actor.role == "engineer":
        if action not in ENGINEER_ACTIONS:
            raise Forbidden(Said("err.engineer_may_not", action=action))
        if ticket is not None and not holds(actor, ticket):
            raise Forbidden(Said("err.not_assigned_to_you"))
        return
    if action not in REQUESTER_ACTIONS:
        raise Forbidden(Said("err.requester_may_not", action=action))
    if ticket is not None:
        # A ticket that has ended (cancelled, resolved, closed) is left to the transition table, which answers 409
        # with what is allowed: asking to cancel it again is a state conflict, not a question of rights.
        # Their own ticket after the engineer accepted or started is a state conflict too (409 with what is allowed,
        # lifecycle.change_status), not a question of rights: only someone else's ticket is refused here.
        if action == "cancel" and not own(actor, ticket):
            raise Forbidden(Said("err.cancel_not_own"))
        if action in OWNER_ONLY and not own(actor, ticket):
            raise Forbidden(Said("err.owner_only"))
        if not can_see(actor, ticket):
            raise Forbidden(Said("err.not_your_ticket"))


def _address(value: str | None) -> str:
    return (value or "").strip().casefold()


def may_thread(ticket: Ticket, *, sender: str, requester_account_email: str | None, staff: Sequence[Actor]) -> bool:
    """A reply mail may become a public comment on this ticket only from its requester (the address on the ticket
    or on their account) or from staff: the desk on any ticket, an engineer on one they hold. Anyone else quoting
    the number opens a ticket of their own (issue 12, finding 8)."""
    address = _address(sender)
    if not address:
        return False
    if address in (_address(ticket.requester.email), _address(requester_account_email)):
        return True
    return any(a.role in DESK_ROLES or (a.role == "engineer" and holds(a, ticket)) for a in staff)
