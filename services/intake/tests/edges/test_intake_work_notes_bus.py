"""Intake's bus edge keeps what staff need as internal work notes: an engineer's help request
(assignment.help_requested) and the stock parts assets could not issue (cmdb.spare_issue_refused), once per event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from intake import messages, service
from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
from intake.domain import NewTicket, Ticket
from intake.entrypoints import bus
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import (
    Envelope,
    EscalationRaisedV1,
    HelpRequestedV1,
    Requester,
    TicketAssignedV1,
    subjects,
)
from opsdesk_shared.contracts.cmdb import RefusedPart, SpareIssueRefusedV1

QUESTION = "显示器指示灯橙色闪烁,要换电源板吗?"


def _js_reply(durable: str) -> str:
    """The reply subject JetStream gives a consumed message (the handlers read delivery counts from it)."""
    return f"$JS.ACK.{EVENTS_STREAM}.{durable}.1.7.7.1767225600000000000.0"


async def _delivered_twice(broker: NatsBroker, envelope: Envelope, subject: str, durable: str) -> None:
    """The event as the durable receives it, then again: JetStream redelivers."""
    async with TestNatsBroker(broker) as br:
        for _ in range(2):
            await br.publish(envelope.to_wire(), subject=subject, stream=EVENTS_STREAM, reply_to=_js_reply(durable))


@pytest.fixture
def store() -> MemoryTicketStore:
    return MemoryTicketStore()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()


@pytest.fixture
def broker(store: MemoryTicketStore, outbox: MemoryOutbox) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="intake-notes-test")
    bus.register(b, desk=Desk.on(store, outbox), settings=IntakeSettings(environment="test", max_deliver=3))
    return b


async def _assigned_ticket(store: MemoryTicketStore) -> Ticket:
    desk = Desk.on(store, MemoryOutbox())
    cmd = NewTicket(title="显示器不亮", description="", requester=Requester(name="王小明"), channel="web", service_code="RS-REPAIR")
    ticket, _ = await service.open_ticket(cmd, desk=desk, now=datetime.now(UTC), correlation_id="c")
    await service.record_assignment(TicketAssignedV1(
        ticket_id=ticket.id, assignment_id="a-1", engineer_id="eng-onsite-1", engineer_name="陳志強", reason="skill match",
        assigned_at=datetime.now(UTC),
    ), desk=desk)
    stored = await store.get(ticket.id)
    assert stored is not None
    return stored


def _help(ticket_id: str, question: str = QUESTION) -> Envelope:
    asked = HelpRequestedV1(ticket_id=ticket_id, assignment_id="a-1", engineer_id="eng-onsite-1", question=question,
                            requested_at=datetime.now(UTC))
    return Envelope.wrap(asked, producer="dispatch", correlation_id="corr-h", subject_id=ticket_id)


def _refused(ticket_id: str) -> Envelope:
    refused = SpareIssueRefusedV1(
        ticket_id=ticket_id, assignment_id="a-1", completion_event_id="done-1", site="主楼", issued=1,
        refused=[RefusedPart(sku="fuser-unit", part="定影组件", quantity=2, reason="not_enough_stock",
                             detail="fuser-unit@主楼: 1 available, 2 wanted")],
        refused_at=datetime.now(UTC),
    )
    return Envelope.wrap(refused, producer="assets", correlation_id="corr-r", subject_id=ticket_id)


async def test_help_request_is_one_internal_note_naming_the_engineer_even_when_redelivered(
    broker: NatsBroker, store: MemoryTicketStore, outbox: MemoryOutbox
) -> None:
    ticket = await _assigned_ticket(store)
    envelope = _help(ticket.id)
    await _delivered_twice(broker, envelope, subjects.ASSIGNMENT_HELP_REQUESTED, "intake-help-requested")

    stored = await store.get(ticket.id)
    assert stored is not None
    notes = [c for c in stored.comments if QUESTION in c.body]
    assert len(notes) == 1
    assert notes[0].internal is True
    assert "陳志強" in notes[0].body and "eng-onsite-1" not in notes[0].body  # by name (walk 15 read roster ids)
    assert stored.status == ticket.status  # a question moves nothing
    assert outbox.published == []  # a work note is announced to nobody


async def test_each_help_request_is_its_own_note(broker: NatsBroker, store: MemoryTicketStore) -> None:
    ticket = await _assigned_ticket(store)
    async with TestNatsBroker(broker) as br:
        for question in ("第一个问题", "第二个问题"):
            await br.publish(_help(ticket.id, question).to_wire(), subject=subjects.ASSIGNMENT_HELP_REQUESTED,
                             stream=EVENTS_STREAM, reply_to=_js_reply("intake-help-requested"))

    stored = await store.get(ticket.id)
    assert stored is not None
    assert [c.internal for c in stored.comments if "个问题" in c.body] == [True, True]


async def test_refused_stock_parts_are_one_internal_note_with_the_reason(broker: NatsBroker, store: MemoryTicketStore) -> None:
    ticket = await _assigned_ticket(store)
    envelope = _refused(ticket.id)
    await _delivered_twice(broker, envelope, subjects.CMDB_SPARE_ISSUE_REFUSED, "intake-spare-issue-refused")

    stored = await store.get(ticket.id)
    assert stored is not None
    notes = [c for c in stored.comments if "定影组件" in c.body]
    assert len(notes) == 1 and notes[0].internal is True
    # Said in words, not codes: stored in zh-CN, read in each reader's language from its template and values.
    assert notes[0].body == "备件未出库（主楼）：定影组件 ×2：库存不足"
    assert notes[0].author == "assets" and notes[0].text_key == "spares_refused"
    assert messages.comment_for(notes[0], "zh-TW").body == "備件未出庫（主楼）：定影组件 ×2：庫存不足"
    assert messages.comment_for(notes[0], "en").body == "Stock parts not issued at 主楼: 定影组件 x2: not enough in stock"
    no_site = messages.staff_note("spares_refused", {"site": "", "lines": [{"part": "硒鼓", "quantity": 1, "reason": "no_site"}]}, "zh-CN")
    assert no_site == "备件未出库（未指定地点）：硒鼓 ×1：工单未写明出库地点"


async def test_help_request_for_an_unknown_ticket_raises_for_redelivery(store: MemoryTicketStore) -> None:
    asked = HelpRequestedV1(ticket_id="no-such-ticket", assignment_id="a-1", engineer_id="eng-onsite-1", question="?",
                            requested_at=datetime.now(UTC))
    with pytest.raises(LookupError):
        await service.record_help_request(asked, event_id="e-1", desk=Desk.on(store, MemoryOutbox()))


async def test_an_escalation_is_one_internal_note_saying_why_even_when_redelivered(
    broker: NatsBroker, store: MemoryTicketStore, outbox: MemoryOutbox
) -> None:
    ticket = await _assigned_ticket(store)
    raised = EscalationRaisedV1(escalation_id="esc-1", ticket_id=ticket.id, engineer_id="eng-onsite-1", kind="technical",
                                description="主板烧毁，需要厂商上门", notify=["pm-1"], raised_at=datetime.now(UTC))
    envelope = Envelope.wrap(raised, producer="dispatch", correlation_id="corr-e", subject_id=ticket.id)
    await _delivered_twice(broker, envelope, subjects.ESCALATION_RAISED, "intake-escalation-raised")

    stored = await store.get(ticket.id)
    assert stored is not None
    notes = [c for c in stored.comments if "主板烧毁" in c.body]
    assert len(notes) == 1 and notes[0].internal is True
    assert "陳志強" in notes[0].body and "技术问题" in notes[0].body and "eng-onsite-1" not in notes[0].body
    assert stored.status == ticket.status and outbox.published == []
