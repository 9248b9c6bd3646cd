"""Tickets nobody could take yet: tried again on an interval and whenever an engineer's status changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from . import metrics, service
from .ports import AssignmentStore, EventOutbox, Roster


class WaitingRoom:
    def __init__(self, *, roster: Roster, assignments: AssignmentStore, outbox: EventOutbox) -> None:
        self._roster = roster
        self._assignments = assignments
        self._outbox = outbox
        self.ticket_ids: set[str] = set()

    def add(self, ticket_id: str) -> None:
        self.ticket_ids.add(ticket_id)

    def discard(self, ticket_id: str) -> None:
        self.ticket_ids.discard(ticket_id)

    async def retry(self) -> int:
        """Assign whoever can be assigned now; returns how many were."""
        assigned = 0
        for ticket_id in sorted(self.ticket_ids):
            result = await service.assign_waiting(
                ticket_id, roster=self._roster, assignments=self._assignments, outbox=self._outbox,
                now=datetime.now(UTC), correlation_id=str(uuid.uuid4()),
            )
            current = result or await self._assignments.get(ticket_id)
            if current is None or current.status != "unassigned":
                self.ticket_ids.discard(ticket_id)
            if result is not None:
                assigned += 1
                metrics.assignments.labels(result.engineer_id).inc()
        return assigned
