"""What the desk's use cases need from the outside world, named after the need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery, ElapsedQuery, TimerView
from opsdesk_shared.outbox import EventOutbox as EventOutbox

from .domain import Ticket


class ConcurrentUpdate(Exception):
    """The ticket changed between load and save; reload and decide again."""


class TicketStore(Protocol):
    async def next_number(self, series: str) -> int: ...
    async def get(self, ticket_id: str) -> Ticket | None: ...
    async def add(self, ticket: Ticket, events: Sequence[Envelope]) -> bool:
        """Store a new ticket with its events; False when the id exists already."""
        ...
    async def change(self, ticket_id: str, decide: Callable[[Ticket], Ticket | None]) -> bool:
        """Load, decide and store in one read and one write; True when changed, False when `decide` saw nothing to
        do. LookupError for an unknown ticket, ConcurrentUpdate when it changed meanwhile."""
        ...
    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        """Replace a ticket if the stored one is still at `ticket.version`, else raise ConcurrentUpdate."""
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
