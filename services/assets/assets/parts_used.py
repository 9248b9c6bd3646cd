"""The engineer's service record (dispatch's assignment.completed) names the stock parts used: each is issued from
the ticket's site against the ticket through the one spare-issue use case, once per completion event; what cannot
be issued is announced (cmdb.spare_issue_refused) so the desk reads it on the ticket."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field

from opsdesk_shared.contracts import AssignmentCompletedV1
from opsdesk_shared.contracts.cmdb import RefusedPart, SpareIssuedV1, SpareIssueRefusedV1

from . import service_ops, stock
from .ports import Docs, DuplicateKey
from .service import Ctx

# Issue ids follow the completion event's id and the line's position, so a redelivery names the same issues.
COMPLETION_NAMESPACE = uuid.UUID("5d0c7a1e-3f2b-4b8e-9a61-2c7d9e4f8b13")


def issue_id_for(completion_event_id: str, line: int) -> str:
    return str(uuid.uuid5(COMPLETION_NAMESPACE, f"{completion_event_id}:{line}"))


@dataclass
class PartsOutcome:
    issued: list[SpareIssuedV1] = field(default_factory=list)
    already: int = 0  # issued by an earlier delivery of the same completion
    refused: list[RefusedPart] = field(default_factory=list)


async def _reservation_for(part_type: str, site: str, ticket_id: str, *, spares: Docs) -> str | None:
    """Parts the desk put aside for this ticket are the ones the engineer took."""
    current = await service_ops.get_stock(part_type, site, spares=spares)
    if current is None:
        return None
    return next((r.id for r in current.reservations.values() if r.ticket_id == ticket_id), None)


async def issue_parts_used(
    completed: AssignmentCompletedV1, *, completion_event_id: str, spares: Docs, issues: Docs, links: Docs,
    outcomes: Docs, ctx: Ctx,
) -> PartsOutcome:
    """Issue each stock line (`sku`) of the record at the ticket's site; lines named only in words are the record's,
    not the stock's. Refusals are announced once per completion (keyed on its event id in `outcomes`). An unknown
    ticket (service_ops.UnknownTicket) or a stock that kept changing raises, so the event is delivered again."""
    outcome = PartsOutcome()
    site = completed.site
    for line_no, line in enumerate(completed.parts_used):
        if not line.sku:
            continue
        if not site:
            outcome.refused.append(RefusedPart(sku=line.sku, part=line.part, quantity=line.quantity, reason="no_site",
                                               detail="the ticket names no site to issue from"))
            continue
        try:
            reservation = await _reservation_for(line.sku, site, completed.ticket_id, spares=spares)
            _, event = await service_ops.issue_spare(
                part_type=line.sku, site=site, quantity=line.quantity, ticket_id=completed.ticket_id,
                reservation_id=reservation, asset_tag=None, spares=spares, ctx=ctx, links=links, issues=issues,
                issue_id=issue_id_for(completion_event_id, line_no),
            )
        except stock.AlreadyIssued:
            outcome.already += 1
        except service_ops.NotFound:
            outcome.refused.append(RefusedPart(sku=line.sku, part=line.part, quantity=line.quantity, reason="unknown_part",
                                               detail=f"no stock of {line.sku} at {site}"))
        except stock.NotEnoughStock as exc:
            outcome.refused.append(RefusedPart(sku=line.sku, part=line.part, quantity=line.quantity,
                                               reason="not_enough_stock", detail=str(exc)))
        else:
            outcome.issued.append(event)
    if outcome.refused:
        refused = SpareIssueRefusedV1(
            ticket_id=completed.ticket_id, assignment_id=completed.assignment_id, completion_event_id=completion_event_id,
            site=site, refused=outcome.refused, issued=len(outcome.issued) + outcome.already, refused_at=ctx.now,
        )
        # The record and its event in one write (the outbox): a redelivery finds the key and announces nothing.
        with contextlib.suppress(DuplicateKey):
            await outcomes.create(completion_event_id, refused.model_dump(mode="json"),
                                  events=[ctx.wrap(refused, completed.ticket_id)])
    return outcome
