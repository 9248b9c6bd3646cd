"""The notification edge on the real bus and database: events from other services become stored notifications for
the people they reach. The SLA monitor's own NATS user subscribes, so its permissions are checked too."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, TicketCreatedV1, TicketReassignedV1
from opsdesk_shared.contracts.reports import ReportSubmittedV1
from sla_monitor import calendar_service
from sla_monitor.adapters.memory import MemoryCalendarStore
from sla_monitor.adapters.mongo import MongoNotificationStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.escalation import Notification
from sla_monitor.notifications import bus
from sla_monitor.notifications.channels import IN_APP_CHANNEL, NotifyChannel
from sla_monitor.notifications.preferences import ChannelChoice, Preference
from sla_monitor.notifications.service import NotificationWiring
from sla_monitor.notifications.stores import MongoPreferenceStore

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)


async def stored(store: MongoNotificationStore, *, ticket_or_event: str, timeout: float = 10) -> list[Notification]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [n for n in await store.due(datetime(2100, 1, 1, tzinfo=UTC), limit=500)
                 if ticket_or_event in (n.ticket_id, n.payload.get("event_id"))]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_a_ticket_awaiting_authorization_and_a_submitted_report_reach_the_agency(
    mongo_db: Any, service_broker: Any, broker: Any,
) -> None:
    store = MongoNotificationStore(mongo_db)
    prefs = MongoPreferenceStore(mongo_db)
    await prefs.put(Preference(key="role:agency", quiet_outside_duty=False, channels=(ChannelChoice(channel="agency-ding"),)))
    wired = NotificationWiring(
        store=store, preferences=prefs, sender=None,
        channels={"agency-ding": NotifyChannel(kind="dingtalk", url="dingtalk://S@T")},  # type: ignore[arg-type]
    )
    sla = await service_broker("sla-monitor")
    bus.register(sla, wired=wired, book=BookHolder(await calendar_service.load_book(MemoryCalendarStore())), holders=None,
                 max_deliver=3, ack_wait_s=5)
    await sla.start()

    publish = JetStreamPublisher(broker).publish
    waiting, plain = (f"t-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for tid, awaits in ((waiting, True), (plain, False)):
        created = TicketCreatedV1(
            ticket_id=tid, number=f"SR-2026-{tid[-6:]}", title="核心交换机配置变更", channel="hotline", service_code="NET-CHANGE",
            requester=Requester(name="王小明"), reported_at=NOW, awaiting_authorization=awaits,
        )
        await publish(Envelope.wrap(created, producer="intake", correlation_id="c", subject_id=tid))
    report = ReportSubmittedV1(
        report_id="service-summary:2026-11:zh-CN:v1", series_id="service-summary:2026-11:zh-CN", kind="service-summary",
        period="2026-11", version=1, submitted_by="pm.zhang", submitted_at=NOW,
    )
    envelope = Envelope.wrap(report, producer="reporting", correlation_id="c", subject_id=report.report_id)
    await publish(envelope)

    (notice,) = await stored(store, ticket_or_event=waiting)
    assert (notice.event, notice.role, notice.target) == ("authorization_waiting", "agency", "agency-ding")
    assert notice.subject == f"【待授权】工单 SR-2026-{waiting[-6:]} 等待信息中心授权" and "核心交换机配置变更" in notice.body  # the title a person reads, not the service code
    (signoff,) = await stored(store, ticket_or_event=str(envelope.event_id))
    assert signoff.event == "report_submitted" and "2026-11" in signoff.body
    assert await stored(store, ticket_or_event=plain, timeout=1) == []  # a ticket that needs no authorization


async def test_an_assignment_and_a_reassignment_reach_the_engineer_by_the_number_dispatch_gives(
    mongo_db: Any, service_broker: Any, broker: Any,
) -> None:
    """Dispatch's events carry the ticket's number: the engineer's notice names it even when the monitor has not (yet)
    read the ticket.created (its consumer runs apart from these; a CI run met an assignment read first). The engineer
    a ticket moves to is told as the first one was."""
    store = MongoNotificationStore(mongo_db)
    prefs = MongoPreferenceStore(mongo_db)
    await prefs.put(Preference(key="role:engineer", events=("assigned",), channels=(ChannelChoice(channel="console"),)))
    wired = NotificationWiring(store=store, preferences=prefs, sender=None, channels={"console": IN_APP_CHANNEL})
    sla = await service_broker("sla-monitor")
    bus.register(sla, wired=wired, book=BookHolder(await calendar_service.load_book(MemoryCalendarStore())), holders=None,
                 max_deliver=3, ack_wait_s=5)
    await sla.start()

    publish = JetStreamPublisher(broker).publish
    tid = f"t-{uuid.uuid4().hex[:8]}"
    number = f"INC-2026-{tid[-6:]}"
    assigned = TicketAssignedV1(ticket_id=tid, assignment_id="a-1", engineer_id="eng-7", engineer_name="李华",
                                reason="skill match", assigned_at=NOW, number=number)
    moved = TicketReassignedV1(ticket_id=tid, assignment_id="a-2", previous_engineer_id="eng-7", engineer_id="eng-9",
                               engineer_name="张伟", reason="reassigned by the desk", by="desk.zhou", reassigned_at=NOW,
                               number=number)
    for event in (assigned, moved):
        await publish(Envelope.wrap(event, producer="dispatch", correlation_id="c", subject_id=tid))

    deadline = asyncio.get_running_loop().time() + 10
    while len(told := await stored(store, ticket_or_event=tid)) < 2 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    by_audience = {n.payload["audience"]: n for n in told}
    assert set(by_audience) == {"engineer:eng-7", "engineer:eng-9"}, told
    for notice in by_audience.values():
        assert notice.event == "assigned" and notice.payload["number"] == number and number in notice.subject
