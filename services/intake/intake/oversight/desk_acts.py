"""The desk's own acts beyond authorization: a desk person (agent, manager, admin) trying to move a ticket the agency
has not authorized (awaiting its authorization, or declined by it). The act is refused as before (409, the lifecycle
decides that); this records it as a security incident too. Intake detects these itself (it is the incidents' owner),
so no event goes through the bus for them: the violation id is the refused request's own."""

from __future__ import annotations

import uuid
from datetime import datetime

from opsdesk_shared.contracts.security import ViolationDetected
from opsdesk_shared.roles import DESK_ROLES

from ..domain import Actor, Ticket
from . import domain, service
from .service import Incidents


def is_violation(ticket: Ticket, actor: Actor) -> bool:
    state = ticket.authorization.state if ticket.authorization is not None else None
    return actor.role in DESK_ROLES and domain.unauthorized(ticket.status, state)


async def report_refused_act(
    ticket: Ticket, *, actor: Actor, act: str, incidents: Incidents, now: datetime, correlation_id: str,
) -> None:
    """Record the desk's refused act on an unauthorized ticket as an incident (nothing for any other refusal)."""
    if not is_violation(ticket, actor):
        return
    violation = ViolationDetected(
        rule="unauthorized_ticket_act", actor=actor.subject, actor_role=str(actor.role), actor_name=actor.name or None,
        act=act, what=domain.desk_act_what(act=act, number=ticket.number, status=ticket.status), occurred_at=now,
        refused=True, ticket_id=ticket.id, ticket_number=ticket.number, ticket_status=ticket.status,
        asset_tag=ticket.asset_tag, detected_by="intake",
    )
    await service.record_violation(
        violation, violation_id=str(uuid.uuid4()), incidents=incidents, now=now, correlation_id=correlation_id,
    )
