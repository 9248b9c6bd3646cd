"""Desk-first hand-overs on both stores (memory and the real database): the guidance window runs out -> one
ticket.dispatch_requested, however often and by however many checker processes the due times are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake import handover, service
from intake.adapters.memory import MemoryPendingHandovers
from intake.adapters.mongo import MongoPendingHandovers
from intake.catalog_cache import Catalog
from intake.domain import NewTicket
from intake.ports import PendingHandovers, TicketStore
from intake.search import TicketIndex
from intake.service import Desk
from opsdesk_shared.contracts import Requester, subjects
from opsdesk_shared.outbox import MemoryOutbox

CREATED = datetime(2026, 11, 30, 1, 0, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


def _handovers(backend: Any) -> PendingHandovers:
    return MemoryPendingHandovers() if backend is None else MongoPendingHandovers(backend)


def _desk(store: TicketStore, handovers: PendingHandovers) -> tuple[Desk, MemoryOutbox]:
    """One checker process: its own outbox, catalog and index over the shared store and due times."""
    outbox = MemoryOutbox()
    desk = Desk(store=store, outbox=outbox, catalog=Catalog.preloaded(), index=TicketIndex(), handovers=handovers,
                guidance_window=WINDOW)
    return desk, outbox


def _cmd(**extra: Any) -> NewTicket:
    return NewTicket(title="VPN 无法连接", description="在家连不上 VPN", channel="hotline", service_code="RS-REPAIR",
                     requester=Requester(name="王小明", department="办公室"), desk_first=True, **extra)


def _requested(outbox: MemoryOutbox) -> list[Any]:
    return [e for e in outbox.published if e.type == subjects.TICKET_DISPATCH_REQUESTED]


async def test_window_runs_out_and_the_hand_over_is_published_once_across_a_checker_restart(backend, store) -> None:  # type: ignore[no-untyped-def]
    handovers = _handovers(backend)
    desk, _ = _desk(store, handovers)
    ticket, _ = await service.open_ticket(_cmd(), desk=desk, now=CREATED, correlation_id="c-1")

    early, early_out = _desk(store, handovers)
    assert await handover.hand_over_due(desk=early, now=CREATED + WINDOW - timedelta(seconds=1)) == 0
    assert _requested(early_out) == []

    # The first checker hands it over, then dies before it can remove the due time.
    class DiesOnRemove:
        def __init__(self, inner: PendingHandovers) -> None:
            self.inner = inner

        async def put(self, ticket_id: str, due_at: datetime) -> None:
            await self.inner.put(ticket_id, due_at)

        async def due(self, now: datetime, *, limit: int) -> list[str]:
            return await self.inner.due(now, limit=limit)

        async def remove(self, ticket_id: str) -> None:
            raise ConnectionError("process killed")

    first, first_out = _desk(store, DiesOnRemove(handovers))
    with pytest.raises(ConnectionError):
        await handover.hand_over_due(desk=first, now=CREATED + WINDOW)
    [event] = _requested(first_out)
    assert event.data["ticket_id"] == ticket.id and event.data["reason"] == "window_elapsed"
    stored = await store.get(ticket.id)
    assert stored is not None and stored.dispatch_requested_at == CREATED + WINDOW

    # A new process reads the due time the first left behind: nothing is sent again, and the entry goes.
    second, second_out = _desk(store, handovers)
    assert await handover.hand_over_due(desk=second, now=CREATED + WINDOW + timedelta(seconds=2)) == 0
    assert _requested(second_out) == []
    assert await handovers.due(CREATED + timedelta(days=1), limit=10) == []


async def test_a_desk_resolution_sends_nothing_and_clears_the_due_time(backend, store) -> None:  # type: ignore[no-untyped-def]
    from intake import lifecycle
    from intake.domain import Actor

    handovers = _handovers(backend)
    desk, outbox = _desk(store, handovers)
    ticket, _ = await service.open_ticket(_cmd(), desk=desk, now=CREATED, correlation_id="c-2")
    agent = Actor(subject="agent1", name="周敏", role="agent")
    at = CREATED + timedelta(minutes=3)
    await service.act(ticket.id, lambda t: lifecycle.resolve(t, actor=agent, now=at, resolution="指导重启 VPN 客户端",
                                                             at_desk=True, guidance_minutes=3),
                      desk=desk, actor=agent, now=at, correlation_id="c-2")

    assert await handover.hand_over_due(desk=desk, now=CREATED + WINDOW) == 0
    assert _requested(outbox) == []
    assert await handovers.due(CREATED + timedelta(days=1), limit=10) == []


async def test_a_due_time_without_a_ticket_is_dropped(backend, store) -> None:  # type: ignore[no-untyped-def]
    handovers = _handovers(backend)
    await handovers.put("never-stored", CREATED)
    desk, outbox = _desk(store, handovers)
    assert await handover.hand_over_due(desk=desk, now=CREATED + WINDOW) == 0
    assert outbox.published == []
    assert await handovers.due(CREATED + timedelta(days=1), limit=10) == []
