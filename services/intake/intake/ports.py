"""What the desk's use cases need from the outside world, named after the need."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from opsdesk_shared.audit_chain import Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery, ElapsedQuery, TimerView
from opsdesk_shared.errors import Contention
from opsdesk_shared.outbox import EventOutbox as EventOutbox

from .catalog import CatalogService
from .domain import Actor, Ticket

# A decision on a ticket: the new state and the events (already wrapped) that announce it.
Decided = tuple[Ticket, Sequence[Envelope]]


class ConcurrentUpdate(Contention):
    """The ticket changed between load and save; reload and decide again."""


class TicketStore(Protocol):
    async def next_number(self, series: str) -> int: ...
    def release_number(self, series: str, number: int) -> None:
        """A number `next_number` gave for a ticket that was not stored: issued again, so numbers keep no gap."""
        ...
    async def get(self, ticket_id: str) -> Ticket | None: ...
    async def add(self, ticket: Ticket, events: Sequence[Envelope]) -> bool:
        """Store a new ticket with its events; False when the id exists already."""
        ...
    async def change(self, ticket_id: str, decide: Callable[[Ticket], Decided | None]) -> Ticket | None:
        """Load, decide and store the ticket with its events in one read and one write; the stored ticket, or None
        when `decide` saw nothing to do. LookupError for an unknown ticket, ConcurrentUpdate when it changed meanwhile.
        Exceptions raised by `decide` (a refused transition) propagate and nothing is written."""
        ...
    async def by_number(self, number: str) -> Ticket | None: ...
    async def recent(self, ticket_id: str, *, since: float | None) -> Ticket | None:
        """The ticket as stored at event-loop time `since` or later (None: as this process last wrote it, for an
        event it wrote, `wrote`); a store may answer from what this process wrote or read since then, saving the
        read (the live stream, the search index: issue 17)."""
        ...
    def wrote(self, event_id: str) -> bool:
        """This process stored the event with its ticket (recently enough to remember it)."""
        ...
    def scan(self) -> AsyncIterator[Ticket]:
        """Every ticket, for rebuilding the search index."""
        ...
    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        """Replace a ticket if the stored one is still at `ticket.version`, else raise ConcurrentUpdate."""
        ...
    async def audit_verify(self) -> Verdict:
        """Every ticket's chained records (history, comments, audit) checked against their seals (issue 16)."""
        ...



class MailSenders(Protocol):
    """Who a mail's sender is among the accounts identity keeps: what mail threading needs to trust a reply."""

    async def staff(self, address: str) -> list[Actor]:
        """Enabled staff accounts (desk roles, engineers) whose e-mail is `address` (case-insensitive), as actors."""
        ...

    async def email_of(self, username: str) -> str | None:
        """The e-mail address on a user's account; None when they have none or there is no such user."""
        ...


class People(Protocol):
    """Who a subject named in another service's event is, as identity knows them: so the ticket's history names the
    person who acted (the engineer who accepted, the agent who reassigned), not the service that relayed it."""

    async def actor_of(self, subject: str) -> Actor | None:
        """The account `subject` (its user name), as an actor acting through the bus; None when there is no such user."""
        ...

    async def engineer(self, engineer_id: str) -> Actor | None:
        """The enabled account linked to the roster engineer `engineer_id`; None when nobody is linked."""
        ...


class CatalogStore(Protocol):
    async def all(self) -> list[CatalogService]: ...
    async def put(self, service: CatalogService, *, expected_version: int | None) -> CatalogService:
        """Create or replace a service; ConcurrentUpdate when `expected_version` is stale."""
        ...
    async def seed(self, services: Sequence[CatalogService]) -> int:
        """Insert the services that are missing (first start); returns how many were added."""
        ...


class TokenStore(Protocol):
    async def role_for(self, token_sha256: str) -> str | None: ...
    async def ensure(self, token_sha256: str, *, role: str, name: str) -> None: ...


class AssetsUnavailable(Exception):
    """The assets service did not answer in time."""


class AssetDirectory(Protocol):
    async def lookup(self, tag: str) -> dict[str, Any] | None: ...


class CalendarUnavailable(Exception):
    """The SLA monitor did not answer in time."""


class BusinessCalendars(Protocol):
    """Business-time arithmetic, answered by the SLA monitor, which owns the calendars."""

    async def ask(self, query: DeadlineQuery | ElapsedQuery) -> CalendarReply: ...


class TimersUnavailable(Exception):
    """The SLA monitor did not answer in time."""


class TimerDirectory(Protocol):
    """A ticket's SLA timers, answered by the SLA monitor, which owns them."""

    async def timers(self, ticket_id: str) -> list[TimerView]: ...


class PendingHandovers(Protocol):
    """Desk-first tickets whose guidance window is running, keyed by ticket id, with the time they go to dispatch.
    Persisted, so a crash or restart of the checker loses no hand-over (desk_first.py, handover.py)."""

    async def put(self, ticket_id: str, due_at: datetime) -> None:
        """Record (or keep) the ticket's due time; idempotent."""
        ...
    async def due(self, now: datetime, *, limit: int) -> list[str]:
        """Ticket ids whose due time has come, oldest first."""
        ...
    async def remove(self, ticket_id: str) -> None: ...
