"""Issue 13 item 4 in dispatch's history notes: a breach's due time and a confirmation's ETA are the site's wall clock
with its offset, in the caller's language over HTTP and in the English note kept for readers that do not render
codes; never a UTC ISO string."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dispatch import service
from dispatch.main import Adapters
from opsdesk_shared.contracts import Requester, TicketCreatedV1

DUE = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai


@pytest.fixture
async def ticket_id(adapters: Adapters) -> str:
    ticket = TicketCreatedV1(
        ticket_id="t-note-times", number="INC-2026-000078", title="打印机卡纸", channel="hotline",
        service_code="RS-ONSITE", requester=Requester(name="李华"), reported_at=datetime.now(UTC),
    )
    await service.assign_ticket(
        ticket, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
        now=datetime.now(UTC), correlation_id="c", causation_id=None,
    )
    return ticket.ticket_id


async def test_a_breach_note_says_the_due_time_on_the_sites_clock_with_its_offset(
    client: httpx.AsyncClient, adapters: Adapters, ticket_id: str
) -> None:
    await service.record_breach(ticket_id, timer="confirmation", due_at=DUE, breached_at=DUE,
                                assignments=adapters.assignments)

    zh = (await client.get(f"/api/v1/assignments/{ticket_id}", headers={"Accept-Language": "zh-CN"})).json()
    tw = (await client.get(f"/api/v1/assignments/{ticket_id}", headers={"Accept-Language": "zh-TW"})).json()

    assert zh["history"][-1]["note"] == "应于 2026-11-30 15:00 +08:00 前完成"
    assert tw["history"][-1]["note"] == "應於 2026-11-30 15:00 +08:00 前完成"
    stored = await adapters.assignments.get(ticket_id)
    assert stored is not None and stored.history[-1].note == "due 2026-11-30 15:00 +08:00"


async def test_a_confirmation_note_says_the_eta_on_the_sites_clock_with_its_offset(
    client: httpx.AsyncClient, adapters: Adapters, ticket_id: str
) -> None:
    confirmed = await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={"eta": "2099-11-30T07:30:00Z"},
                                  headers={"Accept-Language": "zh-CN"})

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["history"][-1]["note"] == "预计到场 2099-11-30 15:30 +08:00"
    english = (await client.get(f"/api/v1/assignments/{ticket_id}", headers={"Accept-Language": "en"})).json()
    assert english["history"][-1]["note"] == "eta 2099-11-30 15:30 +08:00"
    stored = await adapters.assignments.get(ticket_id)
    assert stored is not None and stored.history[-1].note == "eta 2099-11-30 15:30 +08:00"
