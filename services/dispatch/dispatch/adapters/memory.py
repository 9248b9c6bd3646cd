"""In-memory adapters for unit tests only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import check_document
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox
from opsdesk_shared.outbox import outbox_fields

from ..domain import Assignment, Engineer
from ..listing import AssignmentFilter, AssignmentKey, EscalationStatus, assignment_key, escalation_status
from ..loads import InFlightLoads
from ..ports import ConcurrentUpdate


class MemoryRoster:
    def __init__(self, engineers: Sequence[Engineer]) -> None:
        self.by_id = {e.id: e for e in engineers}
        self.held: dict[str, set[str]] = {}
        self.in_flight = InFlightLoads()

    async def engineers(self) -> list[Engineer]:
        return self.in_flight.applied(self.by_id.values())

    def reserve(self, engineer_id: str) -> Callable[[], None]:
        return self.in_flight.reserve(engineer_id)

    async def hold(self, engineer_id: str, assignment_id: str) -> bool:
        return self._change_held(engineer_id, assignment_id, take=True)

    async def release(self, engineer_id: str, assignment_id: str) -> bool:
        return self._change_held(engineer_id, assignment_id, take=False)

    def _change_held(self, engineer_id: str, assignment_id: str, *, take: bool) -> bool:
        held = self.held.setdefault(engineer_id, set())
        if engineer_id not in self.by_id or (assignment_id in held) == take:
            return False
        if take:
            held.add(assignment_id)
        else:
            held.discard(assignment_id)
        e = self.by_id[engineer_id]
        self.by_id[engineer_id] = e.model_copy(update={"open_load": e.open_load + (1 if take else -1)})
        return True

    async def save(self, engineer: Engineer) -> Engineer:
        load = self.by_id[engineer.id].open_load if engineer.id in self.by_id else 0
        check_document(engineer.model_dump(mode="json"))  # refused here as the database would
        self.by_id[engineer.id] = engineer.model_copy(update={"open_load": load})
        return self.by_id[engineer.id]

    async def set_status(self, engineer_id: str, status: str) -> Engineer | None:
        if engineer_id not in self.by_id:
            return None
        self.by_id[engineer_id] = self.by_id[engineer_id].model_copy(update={"status": status})
        return self.by_id[engineer_id]


class MemoryAssignmentStore:
    def __init__(self, *, outbox: MemoryOutbox | None = None, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.by_ticket: dict[str, Assignment] = {}
        # Each assignment's history as the database keeps it (sealed; audit_store.TRAILS["dispatch"]).
        self.sealed: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._key = audit_key
        # Keeps each ticket's unsent events as the database's `_outbox` does, so relay_now finds them (tests of replays).
        self.outbox = outbox

    async def get(self, ticket_id: str) -> Assignment | None:
        return self.by_ticket.get(ticket_id)

    async def add(self, assignment: Assignment, events: Sequence[Envelope]) -> bool:
        if assignment.ticket_id in self.by_ticket:
            return False
        check_document({**assignment.model_dump(), **outbox_fields(events)})
        self.by_ticket[assignment.ticket_id] = assignment
        self._seal(assignment)
        if self.outbox is not None:
            self.outbox.store(assignment.ticket_id, events)
        return True

    async def save(self, assignment: Assignment, events: Sequence[Envelope]) -> Assignment:
        current = self.by_ticket.get(assignment.ticket_id)
        if current is None or current.version != assignment.version:
            raise ConcurrentUpdate(assignment.ticket_id)
        check_document({**assignment.model_dump(), **outbox_fields(events)})
        stored = assignment.model_copy(update={"version": assignment.version + 1})
        self.by_ticket[assignment.ticket_id] = stored
        self._seal(stored)
        return stored

    def _seal(self, assignment: Assignment) -> None:
        """Seal what the assignment appended to its history, as the Mongo store does on each write."""
        trail = audit_store.ASSIGNMENTS
        doc = assignment.model_dump(mode="python", include=set(trail.fields))
        self.sealed[assignment.ticket_id] = audit_store.seal_fields(doc, self.sealed.get(assignment.ticket_id), trail, key=self._key)

    async def audit_verify(self) -> Verdict:
        trail = audit_store.ASSIGNMENTS
        docs = ({"_id": ticket_id, **fields} for ticket_id, fields in self.sealed.items())
        return audit_store.verify_documents(docs, trail, key=self._key)

    async def by_number(self, number: str) -> Assignment | None:
        return next((a for a in self.by_ticket.values() if a.ticket_number == number), None)

    async def page(self, query: AssignmentFilter, *, after: AssignmentKey | None, limit: int) -> list[Assignment]:
        found = sorted((a for a in self.by_ticket.values() if query.matches(a)), key=assignment_key, reverse=True)
        if after is not None:
            found = [a for a in found if assignment_key(a) < after]
        return found[:limit]

    async def with_escalations(self, status: EscalationStatus) -> list[Assignment]:
        return [a for a in self.by_ticket.values() if any(escalation_status(e, a) == status for e in a.escalations)]
