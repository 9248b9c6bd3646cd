"""Escalation notifications through a real SMTP server (aiosmtpd) and a real HTTP webhook, stored in the database."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from opsdesk_devstack.infra import free_port
from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, SlaBreachedV1
from sla_monitor import calendar_service, escalation, notify
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.adapters.mongo import MongoNotificationStore
from sla_monitor.adapters.senders import HttpWebhookSender, SmtpEmailSender
from sla_monitor.calendar_book import BookHolder
from sla_monitor.entrypoints import bus
from sla_monitor.escalation import EscalationLevel
from sla_monitor.settings import SlaSettings

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(microsecond=0)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, envelope.content.decode(errors="replace")))
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


class Hook:
    """A minimal HTTP server that records JSON POSTs and answers 500 for the first `fail` requests."""

    def __init__(self, fail: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail = fail

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        body = await reader.readexactly(length)
        if self.fail > 0:
            self.fail -= 1
            status = b"500 Internal Server Error"
        else:
            self.received.append(json.loads(body))
            status = b"204 No Content"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, Hook]]:
    receiver = Hook(fail=1)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/opsdesk", receiver
    server.close()
    await server.wait_closed()


def breach(ticket_id: str) -> SlaBreachedV1:
    return SlaBreachedV1(ticket_id=ticket_id, timer="response", started_at=T0 - timedelta(hours=1), due_at=T0, breached_at=T0)


async def test_escalation_reaches_smtp_and_webhook_and_every_attempt_is_stored(mongo_db: Any, smtp: Any, hook: Any) -> None:
    controller, inbox = smtp
    url, receiver = hook
    store = MongoNotificationStore(mongo_db)
    chain = (EscalationLevel(level=1, role="desk_lead", after_minutes=0, emails=("lead@agency.example",), webhooks=(url,),
                             language="en"),)
    await notify.escalate_breach(breach("t-real"), chain=chain, store=store, now=T0)
    email = SmtpEmailSender(host="127.0.0.1", port=controller.port, sender="opsdesk@test.example")
    webhook = HttpWebhookSender(timeout_s=5)
    try:
        assert await notify.deliver_due(now=T0, store=store, email=email, webhook=webhook, max_attempts=3, backoff_s=1) == 1
        assert await notify.deliver_due(now=T0 + timedelta(seconds=1), store=store, email=email, webhook=webhook, max_attempts=3, backoff_s=1) == 1
    finally:
        await webhook.close()
    assert [rcpt for rcpt, _ in inbox.messages] == [["lead@agency.example"]]
    assert "[SLA breached] response commitment on ticket t-real" in inbox.messages[0][1]
    assert [p["ticket_id"] for p in receiver.received] == ["t-real"]
    stored = {n.channel: n for n in await store.due(T0 + timedelta(days=1), limit=10)}
    assert stored == {}  # nothing left pending
    hook_notification = await store.get(escalation.notification_id(ticket_id="t-real", timer="response", level=1, channel="webhook", target=url))
    assert hook_notification is not None
    assert (hook_notification.status, hook_notification.attempts) == ("sent", 2)


async def test_unreachable_smtp_is_recorded_as_failed_after_the_last_attempt(mongo_db: Any) -> None:
    store = MongoNotificationStore(mongo_db)
    chain = (EscalationLevel(level=1, role="desk_lead", after_minutes=0, emails=("lead@agency.example",)),)
    await notify.escalate_breach(breach("t-down"), chain=chain, store=store, now=T0)
    email = SmtpEmailSender(host="127.0.0.1", port=free_port(), sender="opsdesk@test.example", timeout_s=2)
    webhook = HttpWebhookSender(timeout_s=2)
    try:
        for attempt in range(2):
            await notify.deliver_due(now=T0 + timedelta(hours=attempt), store=store, email=email, webhook=webhook, max_attempts=2, backoff_s=1)
    finally:
        await webhook.close()
    (only,) = [await store.get(escalation.notification_id(ticket_id="t-down", timer="response", level=1, channel="email", target="lead@agency.example"))]
    assert only is not None and only.status == "failed" and only.attempts == 2 and only.last_error


async def test_breach_on_the_bus_plans_the_escalation(mongo_db: Any, broker: Any) -> None:
    store = MongoNotificationStore(mongo_db)
    settings = SlaSettings(escalation=(EscalationLevel(level=1, role="desk_lead", after_minutes=0, emails=("lead@x.example",)),))
    holder = BookHolder(await calendar_service.load_book(MemoryCalendarStore()))
    bus.register(broker, store=MemoryTimerStore(), holder=holder, notifications=store, settings=settings, outbox=MemoryOutbox())
    await broker.start()
    ticket_id = f"t-{uuid.uuid4().hex[:6]}"
    await JetStreamPublisher(broker).publish(Envelope.wrap(breach(ticket_id), producer="sla-monitor", correlation_id="c", subject_id=ticket_id))
    nid = escalation.notification_id(ticket_id=ticket_id, timer="response", level=1, channel="email", target="lead@x.example")
    for _ in range(100):
        if await store.get(nid):
            break
        await asyncio.sleep(0.05)
    planned = await store.get(nid)
    assert planned is not None and planned.status == "pending"
