"""A ticket's steps as each reader may see them (GET /tickets/{id} `history`): the status changes and the agency's
decisions on its authorization, from the audit trail (pure).

Staff read every step as recorded. A requester reads the same steps (what happened to their request, when, who), the
reason only where it is addressed to them: the agency's decision (a decline's note is the reason their request was
cancelled, AUTHORIZATION.md) and their own acts; the desk's, dispatch's and engineers' reasons are work notes. The
full audit (where from, every field) stays GET /tickets/{id}/history, for the desk, managers and auditors."""

from __future__ import annotations

from .domain import Actor, AuditEntry, Ticket

AUTHORIZATION_ACTS = ("authorization:approved", "authorization:declined")


def is_step(entry: AuditEntry) -> bool:
    return "status" in entry.changes or entry.action in AUTHORIZATION_ACTS


def steps_for(ticket: Ticket, actor: Actor) -> list[AuditEntry]:
    steps = [e for e in ticket.audit if is_step(e)]
    if actor.role != "requester":
        return steps
    shown: list[AuditEntry] = []
    for entry in steps:
        own = entry.by == actor.subject
        keep = {"status"} | ({"reason", "authorization", "authorization_note"} if own or entry.action in AUTHORIZATION_ACTS else set())
        changes = {k: v for k, v in entry.changes.items() if k in keep}
        shown.append(entry.model_copy(update={"changes": changes, "source": ""}))
    return shown
