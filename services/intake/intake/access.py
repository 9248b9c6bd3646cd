"""Who may see and do what with a ticket. Requesters see their own and their department's tickets, engineers what
they hold, auditors everything without changing anything; the desk (agent, manager, admin) runs the lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .domain import Actor, Ticket

Action = Literal[
    "create", "edit", "override_priority", "work", "resolve_at_desk", "cancel", "close", "reopen", "comment",
    "internal_note", "service_record", "review", "read_history",
]
DESK_ROLES = frozenset({"agent", "manager", "admin"})
ENGINEER_ACTIONS: frozenset[str] = frozenset({"work", "comment", "internal_note", "service_record", "close", "read_history"})
REQUESTER_ACTIONS: frozenset[str] = frozenset({"create", "comment", "close", "reopen", "cancel"})


class Forbidden(Exception):
    """The actor may not do this; the edge answers 403 (or 404 when they may not even see the ticket)."""


def holds(actor: Actor, ticket: Ticket) -> bool:
    return ticket.assignee is not None and ticket.assignee.engineer_id == actor.subject


def own(actor: Actor, ticket: Ticket) -> bool:
    return ticket.requester_id == actor.subject


def can_see(actor: Actor, ticket: Ticket) -> bool:
    if actor.role in DESK_ROLES or actor.role == "auditor":
        return True
    if actor.role == "engineer":
        return holds(actor, ticket)
    return own(actor, ticket) or (actor.department is not None and ticket.requester.department == actor.department)


def require(actor: Actor, action: Action, ticket: Ticket | None = None) -> None:
    if actor.role == "auditor":
        raise Forbidden("auditors read everything and change nothing")
    if actor.role in DESK_ROLES:
        return
    if actor.role == "engineer":
        if action not in ENGINEER_ACTIONS:
            raise Forbidden(f"engineers may not {action.replace('_', ' ')}; ask the desk")
        if ticket is not None and not holds(actor, ticket):
            raise Forbidden("this ticket is not assigned to you")
        return
    if action not in REQUESTER_ACTIONS:
        raise Forbidden(f"requesters may not {action.replace('_', ' ')}")
    if ticket is not None:
        if action == "cancel" and not (own(actor, ticket) and ticket.status == "new"):
            raise Forbidden("requesters may cancel only their own tickets before work starts")
        if not can_see(actor, ticket):
            raise Forbidden("not your ticket")
