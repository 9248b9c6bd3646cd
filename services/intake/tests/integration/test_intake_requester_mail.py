"""Requesters are mailed when their ticket is assigned, waits for them, and is resolved: intake on the real
database and NATS, its status changes relayed from the outbox, the notice consumer sending through a real SMTP
server (aiosmtpd). A mail server that refuses leaves the event unacked, and it is mailed on redelivery."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from intake import lifecycle, service
from intake.adapters.mongo import MongoTicketStore
from intake.adapters.notices import MongoSentNotices, SmtpRequesterMailer
from intake.domain import Actor, NewTicket
from intake.entrypoints import bus
from intake.mail_senders import NoMailSenders
from intake.notices import RequesterNotices
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_devstack.infra import free_port
from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1
from opsdesk_shared.outbox import OutboxRelay

pytestmark = pytest.mark.integration
AGENT = Actor(subject="agent1", name="AGENT1", role="agent")


class Inbox:
    def __init__(self, *, refuse: int = 0) -> None:
        self.messages: list[Message] = []
        self.refuse = refuse

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox(refuse=1)  # the first mail is refused: it must still arrive, on redelivery
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


async def _eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.1)


def _text(message: Message) -> str:
    assert isinstance(message, EmailMessage)
    return str(message.get_content())


async def test_requester_is_mailed_on_assignment_pending_and_resolution(
    mongo_db: Any, broker: Any, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    store = MongoTicketStore(mongo_db)
    await store.ensure_indexes()
    desk = Desk.on(store, OutboxRelay(store.collection, JetStreamPublisher(broker)))
    notices = RequesterNotices(
        mailer=SmtpRequesterMailer(host="127.0.0.1", port=controller.port, sender="desk@opsdesk.test", timeout_s=5),
        sent=MongoSentNotices(mongo_db), senders=NoMailSenders(),
    )
    bus.register(broker, desk=desk, settings=IntakeSettings(environment="test", max_deliver=5), requester_notices=notices)
    await broker.start()

    cmd = NewTicket(
        title="打印机卡纸", description="三楼打印机卡纸", requester=Requester(name="王小明", email="wang@agency.test"),
        channel="hotline", service_code="RS-REPAIR",
    )
    ticket, _ = await service.open_ticket(cmd, desk=desk, now=datetime.now(UTC), correlation_id="c-mail")
    assigned = TicketAssignedV1(
        ticket_id=ticket.id, assignment_id=str(uuid.uuid4()), engineer_id="eng-onsite-1", engineer_name="陈志强",
        reason="skill match (printer), load 2/8, role onsite, score 13.25", assigned_at=datetime.now(UTC),
    )
    await JetStreamPublisher(broker).publish(Envelope.wrap(assigned, producer="dispatch", correlation_id="c-mail", subject_id=ticket.id))

    async def mails(n: int) -> bool:
        return len(inbox.messages) >= n

    await _eventually(lambda: mails(1))  # refused once, then sent on redelivery
    first = inbox.messages[0]
    assert first["To"] == "wang@agency.test"
    assert first["Subject"] == f"[{ticket.number}] 您的工单已指派工程师"
    assert "陈志强" in _text(first) and "score" not in _text(first) and "load 2/8" not in _text(first)

    def pend(t: Any) -> lifecycle.Changed:
        return lifecycle.change_status(t, target="pending", actor=AGENT, now=datetime.now(UTC), pending_reason="requester")

    await service.act(ticket.id, pend, desk=desk, actor=AGENT, now=datetime.now(UTC), correlation_id="c-mail")
    await _eventually(lambda: mails(2))
    assert inbox.messages[1]["Subject"] == f"[{ticket.number}] 您的工单需要您的回复"

    def resolve(t: Any) -> lifecycle.Changed:
        return lifecycle.resolve(t, actor=AGENT, now=datetime.now(UTC), resolution="更换硒鼓")

    await service.act(ticket.id, resolve, desk=desk, actor=AGENT, now=datetime.now(UTC), correlation_id="c-mail")
    await _eventually(lambda: mails(3))
    assert inbox.messages[2]["Subject"] == f"[{ticket.number}] 您的工单已解决"
    assert "重新打开" in _text(inbox.messages[2])

    await asyncio.sleep(1.0)
    assert len(inbox.messages) == 3  # one mail per occasion, the refused one included
    assert await mongo_db["requester_notices"].count_documents({}) == 3
