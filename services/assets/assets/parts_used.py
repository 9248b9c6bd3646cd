"""The engineer's service record (dispatch's assignment.completed) names the stock parts used: each is issued from
the ticket's site against the ticket through the one spare-issue use case, once per completion event; what cannot
be issued is announced (cmdb.spare_issue_refused) so the desk reads it on the ticket.

A record the desk returns (ticket.service_record_reviewed, decision returned) is redone by the engineer and completed
again with its parts: the returned completion's issues go back to stock (cmdb.spare_issue_reversed), so the parts
leave the stock once. Each assignment keeps a ledger (in the issues collection, key `completions:<assignment>`) of
its completions and of the returns; a return takes back the latest completion at or before it, whatever order the
two consumers hear them in."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsdesk_shared.contracts import AssignmentCompletedV1, ServiceRecordReviewedV1
from opsdesk_shared.contracts.cmdb import RefusedPart, SpareIssuedV1, SpareIssueRefusedV1

from . import service_ops, stock
from .ports import Docs, DuplicateKey
from .service import Ctx, modify

# Issue ids follow the completion event's id and the line's position, so a redelivery names the same issues.
COMPLETION_NAMESPACE = uuid.UUID("5d0c7a1e-3f2b-4b8e-9a61-2c7d9e4f8b13")


def issue_id_for(completion_event_id: str, line: int) -> str:
    return str(uuid.uuid5(COMPLETION_NAMESPACE, f"{completion_event_id}:{line}"))


@dataclass
class PartsOutcome:
    issued: list[SpareIssuedV1] = field(default_factory=list)
    already: int = 0  # issued by an earlier delivery of the same completion
    reversed: int = 0  # issues of a returned completion taken back into stock
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
    issue_ids = [issue_id_for(completion_event_id, n) for n, line in enumerate(completed.parts_used) if line.sku]
    ledger = await _record_completion(completed, completion_event_id, issue_ids, issues=issues)
    if completion_event_id in _returned(ledger):
        # The desk returned this record before assets heard of it: its parts are the redo's to issue.
        return outcome
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
    # A return heard while these parts were being issued takes them back now.
    outcome.reversed = await _take_back_returned(completed.assignment_id, spares=spares, issues=issues, ctx=ctx)
    return outcome


# --- returned records --------------------------------------------------------------------------------------------


def ledger_key(assignment_id: str) -> str:
    return f"completions:{assignment_id}"


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _returned(ledger: dict[str, Any] | None) -> set[str]:
    """The completions (event ids) the desk returned: for each return, the latest completion at or before it."""
    if not ledger:
        return set()
    completions = sorted(ledger.get("completions", []), key=lambda c: _at(c["completed_at"]))
    found = set()
    for returned_at in ledger.get("returns", []):
        before = [c for c in completions if _at(c["completed_at"]) <= _at(returned_at)]
        if before:
            found.add(before[-1]["event_id"])
    return found


async def _record_completion(
    completed: AssignmentCompletedV1, event_id: str, issue_ids: list[str], *, issues: Docs,
) -> dict[str, Any] | None:
    def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        doc = doc or {"assignment_id": completed.assignment_id, "ticket_id": completed.ticket_id, "completions": [], "returns": []}
        if any(c["event_id"] == event_id for c in doc["completions"]):
            return None
        entry = {"event_id": event_id, "completed_at": completed.completed_at.isoformat(), "issue_ids": issue_ids}
        return {**doc, "completions": [*doc["completions"], entry]}

    await modify(issues, ledger_key(completed.assignment_id), change)
    return await issues.get(ledger_key(completed.assignment_id))


async def _take_back_returned(assignment_id: str, *, spares: Docs, issues: Docs, ctx: Ctx) -> int:
    """Reverse every issue of the returned completions still issued; a retry reverses nothing twice."""
    ledger = await issues.get(ledger_key(assignment_id))
    returned = _returned(ledger)
    count = 0
    for completion in (ledger or {}).get("completions", []):
        if completion["event_id"] not in returned:
            continue
        for issue_id in completion["issue_ids"]:
            doc = await issues.get(issue_id)
            if doc is None or doc.get("status") == "reversed":
                continue  # never issued (refused, or not yet) or taken back already
            with contextlib.suppress(service_ops.AlreadyReversed):
                await service_ops.reverse_spare_issue(issue_id, reason="service record returned for more work",
                                                      spares=spares, issues=issues, ctx=ctx)
                count += 1
    return count


async def on_record_reviewed(review: ServiceRecordReviewedV1, *, spares: Docs, issues: Docs, ctx: Ctx) -> int:
    """The desk returned the engineer's record: the parts of the completion it returned go back to stock (the redo
    issues its own). An approval, or a record written at the desk (no assignment), changes nothing here."""
    if review.decision != "returned" or review.assignment_id is None:
        return 0
    returned_at = review.reviewed_at.isoformat()

    def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        doc = doc or {"assignment_id": review.assignment_id, "ticket_id": review.ticket_id, "completions": [], "returns": []}
        if returned_at in doc["returns"]:
            return None
        return {**doc, "returns": [*doc["returns"], returned_at]}

    await modify(issues, ledger_key(review.assignment_id), change)
    return await _take_back_returned(review.assignment_id, spares=spares, issues=issues, ctx=ctx)
