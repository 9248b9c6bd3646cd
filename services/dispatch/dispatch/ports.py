from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from opsdesk_shared.audit_chain import Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import Contention
from opsdesk_shared.outbox import EventOutbox as EventOutbox

from .domain import Assignment, Engineer
from .listing import AssignmentFilter, AssignmentKey, EscalationStatus


class Roster(Protocol):
    async def engineers(self) -> list[Engineer]:
        """Everyone, with the loads of decisions still in flight (`reserve`) added to the stored ones."""
        ...
    def reserve(self, engineer_id: str) -> Callable[[], None]:
        """Count a decision for the engineer at once, until its assignment is stored (call the release it returns)."""
        ...
    # An engineer's load is the set of assignment ids they hold, kept with its count in one document: taking and
    # letting go are conditional on that set, so asking twice changes nothing (a redelivery after a crash between the
    # assignment's write and the load's, a driver's retry of a write whose answer was lost).
    async def hold(self, engineer_id: str, assignment_id: str) -> bool:
        """The engineer holds this assignment; True if it was not counted yet."""
        ...
    async def release(self, engineer_id: str, assignment_id: str) -> bool:
        """The engineer no longer holds this assignment; True if it was counted until now."""
        ...
    async def save(self, engineer: Engineer) -> Engineer:
        """Create or replace an engineer's profile and rota; the open load stays what assignments made it."""
        ...
    async def set_status(self, engineer_id: str, status: str) -> Engineer | None: ...


class AssignmentStore(Protocol):
    async def get(self, ticket_id: str) -> Assignment | None: ...
    async def add(self, assignment: Assignment, events: Sequence[Envelope]) -> bool:
        """Store the ticket's one live assignment with its events; False if the ticket already has one."""
        ...
    async def save(self, assignment: Assignment, events: Sequence[Envelope]) -> Assignment:
        """Replace if the stored one is still at `assignment.version` (else ConcurrentUpdate); returns it as stored."""
        ...
    async def by_number(self, number: str) -> Assignment | None:
        """The assignment of the ticket with this number (learnt from ticket.created)."""
        ...
    async def page(self, query: AssignmentFilter, *, after: AssignmentKey | None, limit: int) -> list[Assignment]:
        """Up to `limit` matching assignments after the key, in listing order (ticket number, then id, descending)."""
        ...
    async def with_escalations(self, status: EscalationStatus) -> list[Assignment]:
        """Assignments with at least one escalation in that status (open: not acknowledged yet)."""
        ...
    async def audit_verify(self) -> Verdict:
        """Every assignment's history chain checked against its seals (issue 16)."""
        ...


class ConcurrentUpdate(Contention):
    """The assignment changed between load and save."""
