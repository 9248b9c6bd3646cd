"""What the replay tests (issue 14: a ticket.created redelivered after a crash) share: the ticket, a publisher that
records, a stand-in that delegates to the real roster or outbox except where it dies, and the assignment call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dispatch import service
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


def created(n: int) -> TicketCreatedV1:
    return TicketCreatedV1(
        ticket_id=f"ticket-{n}", number=f"INC-2026-{n:06d}", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
        skill="printer", requester=Requester(name="王小明"), reported_at=NOW,
    )


class Recording:
    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.sent.append(envelope)


class Dying:
    """The real component, but for the methods a subclass makes die (the fault it stands for)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def load(roster: Any, engineer_id: str) -> int:
    return next(e.open_load for e in await roster.engineers() if e.id == engineer_id)


async def assign(ticket: TicketCreatedV1, *, roster: Any, store: Any, outbox: Any) -> Any:
    """What dispatch does on hearing ticket.created (each redelivery too)."""
    return await service.assign_ticket(ticket, roster=roster, assignments=store, outbox=outbox, now=NOW,
                                       correlation_id="c", causation_id="e-1")
