"""Held tickets are visible (issue 13, dispatch seams item 4): dispatch holds work on site that arrives outside service
hours until the on-site shift (assignment.unassigned with held_until). Intake's bus edge keeps it on the ticket: the
desk reads a work note with the hold's end on the site's clock and dispatch's reason in Chinese; the requester reads
a plain sentence from their templates, in their language. Once per event; a ticket nobody can take yet (no hold) is a
work note only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from intake import service
from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
from intake.domain import NewTicket, Ticket
from intake.entrypoints import bus
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import Envelope, NoEngineerAvailableV1, Requester, subjects

MORNING = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
DURABLE = "intake-assignment-unassigned"


def _js_reply(durable: str) -> str:
    return f"$JS.ACK.{EVENTS_STREAM}.{durable}.1.7.7.1767225600000000000.0"


@pytest.fixture
def store() -> MemoryTicketStore:
    return MemoryTicketStore()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()


@pytest.fixture
def broker(store: MemoryTicketStore, outbox: MemoryOutbox) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="intake-held-test")
    bus.register(b, desk=Desk.on(store, outbox), settings=IntakeSettings(environment="test", max_deliver=3))
    return b


async def _ticket(store: MemoryTicketStore, *, title: str = "打印机卡纸，需要上门") -> Ticket:
    cmd = NewTicket(title=title, description="三楼打印机卡纸", requester=Requester(name="陈伟"), channel="web",
                    service_code="RS-REPAIR")
    ticket, _ = await service.open_ticket(cmd, desk=Desk.on(store, MemoryOutbox()), now=datetime.now(UTC), correlation_id="c")
    return ticket


def _held(ticket_id: str, *, until: datetime | None = MORNING) -> Envelope:
    if until is None:
        event = NoEngineerAvailableV1(ticket_id=ticket_id, service_code="RS-REPAIR", reason="no available engineer",
                                      at=datetime.now(UTC), reason_code="no_engineer", reason_params={"skill": None})
    else:
        event = NoEngineerAvailableV1(
            ticket_id=ticket_id, service_code="RS-REPAIR", at=datetime.now(UTC), held_until=until,
            reason="outside service hours (on site 5x8, by phone at other times): visit work held until ...",
            reason_code="held_after_hours", reason_params={"until": until.isoformat(), "work": "visit"},
        )
    return Envelope.wrap(event, producer="dispatch", correlation_id="corr-held", subject_id=ticket_id)


async def _deliver(broker: NatsBroker, envelope: Envelope, times: int = 1) -> None:
    async with TestNatsBroker(broker) as br:
        for _ in range(times):  # JetStream may redeliver the same event
            await br.publish(envelope.to_wire(), subject=subjects.ASSIGNMENT_UNASSIGNED, stream=EVENTS_STREAM,
                             reply_to=_js_reply(DURABLE))


async def test_a_held_ticket_tells_the_desk_when_the_on_site_shift_takes_it_and_the_requester_in_plain_words(
    broker: NatsBroker, store: MemoryTicketStore, outbox: MemoryOutbox
) -> None:
    ticket = await _ticket(store)
    await _deliver(broker, _held(ticket.id), times=2)

    stored = await store.get(ticket.id)
    assert stored is not None and stored.status == "new"  # nothing moves: it waits
    notes = [c for c in stored.comments if c.internal]
    assert len(notes) == 1, notes
    assert "2026-11-27 08:30 +08:00" in notes[0].body and "00:30" not in notes[0].body
    assert "顺延至 2026-11-27 08:30 +08:00" in notes[0].body and notes[0].author == "dispatch"
    told = [c.body for c in stored.comments if not c.internal]
    assert told == [f"您的工单 {ticket.number} 需要工程师上门处理。现在是非驻场服务时间，工程师将于 2026-11-27 08:30 起上门为您处理。"]
    assert outbox.published == []  # notes are the ticket's own record, announced to nobody


async def test_the_requester_hears_of_the_hold_in_the_language_they_wrote_in(broker: NatsBroker, store: MemoryTicketStore) -> None:
    ticket = await _ticket(store, title="打印機卡紙，需要上門")
    await _deliver(broker, _held(ticket.id))

    stored = await store.get(ticket.id)
    assert stored is not None
    assert [c.body for c in stored.comments if not c.internal] == [
        f"您的工單 {ticket.number} 需要工程師上門處理。現在是非駐場服務時間，工程師將於 2026-11-27 08:30 起上門為您處理。"]


async def test_a_ticket_nobody_can_take_yet_is_a_work_note_only(broker: NatsBroker, store: MemoryTicketStore) -> None:
    ticket = await _ticket(store)
    await _deliver(broker, _held(ticket.id, until=None))

    stored = await store.get(ticket.id)
    assert stored is not None
    assert [(c.internal, c.body) for c in stored.comments] == [(True, "待派工：暂无可用工程师")]


async def test_a_hold_for_an_unknown_ticket_raises_for_redelivery(store: MemoryTicketStore) -> None:
    event = NoEngineerAvailableV1(ticket_id="no-such-ticket", service_code="RS-REPAIR", reason="x", at=datetime.now(UTC))
    with pytest.raises(LookupError):
        await service.record_unassigned(event, event_id="e-1", desk=Desk.on(store, MemoryOutbox()))
