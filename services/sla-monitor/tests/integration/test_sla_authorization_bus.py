"""The clocks of work the agency authorizes (issue 16), on real NATS JetStream and the real database: the response
clock measures the desk's acknowledgement, the dispatch clock starts at the authorization, and emergency work that
went out first has the agency's decision due on the `authorization` clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, TicketUpdatedV1, subjects
from opsdesk_shared.contracts.authorizations import TicketAuthorizationDeclinedV1, TicketAuthorizedV1
from sla_monitor import calendar_service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryNotificationStore, MemoryOutbox
from sla_monitor.adapters.mongo import MongoTimerStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.entrypoints import bus
from sla_monitor.settings import SlaSettings

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 5.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # BSON keeps milliseconds


def settings() -> SlaSettings:
    # Every clock on the 24x7 calendar, so the expected due times do not depend on the time of day.
    return SlaSettings(
        policies={name: {"calendar": "24x7"} for name in ("response", "dispatch", "authorization")},
        authorization_working_hours=2, max_deliver=3, ack_wait_s=5,
    )


async def _wire(broker: Any, store: MongoTimerStore, outbox: MemoryOutbox) -> JetStreamPublisher:
    holder = BookHolder(await calendar_service.load_book(MemoryCalendarStore()))
    bus.register(broker, store=store, holder=holder, notifications=MemoryNotificationStore(), outbox=outbox, settings=settings())
    await broker.start()
    return JetStreamPublisher(broker)


def _created(ticket_id: str, reported_at: datetime, **flags: bool) -> Envelope:
    data = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000021", title="服务器内存扩容", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=reported_at, **flags,
    )
    return Envelope.wrap(data, producer="intake", correlation_id="c", subject_id=ticket_id, occurred_at=reported_at)


def _authorized(ticket_id: str, at: datetime, *, dispatch: bool) -> Envelope:
    data = TicketAuthorizedV1(
        ticket_id=ticket_id, number="INC-2026-000021", title="服务器内存扩容", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=at, authorized_at=at, by="zhou", basis="decision", dispatch=dispatch,
    )
    return Envelope.wrap(data, producer="intake", correlation_id="c", subject_id=ticket_id)


async def test_waiting_work_runs_response_until_the_desk_acknowledges_and_dispatch_from_the_authorization(
    broker: Any, mongo_timer_store: MongoTimerStore
) -> None:
    store, outbox = mongo_timer_store, MemoryOutbox()
    publisher = await _wire(broker, store, outbox)
    tid, t0 = f"tkt-{uuid.uuid4().hex[:10]}", _ms(datetime.now(UTC))

    await publisher.publish(_created(tid, t0, awaiting_authorization=True))
    response = await eventually(lambda: store.get(f"{tid}:response"))
    assert response.status == "running" and await store.get(f"{tid}:dispatch") is None

    acknowledged = TicketUpdatedV1(ticket_id=tid, number="INC-2026-000021", by="agent1", updated_at=t0 + timedelta(minutes=20),
                                   changes={"acknowledged_at": {"old": None, "new": (t0 + timedelta(minutes=20)).isoformat()}})
    await publisher.publish(Envelope.wrap(acknowledged, producer="intake", correlation_id="c", subject_id=tid))

    async def response_stopped() -> Any:
        t = await store.get(f"{tid}:response")
        return t if t is not None and t.status == "stopped" else None

    assert (await eventually(response_stopped)).stopped_at == t0 + timedelta(minutes=20)
    authorized_at = t0 + timedelta(hours=3)
    await publisher.publish(_authorized(tid, authorized_at, dispatch=True))
    dispatch = await eventually(lambda: store.get(f"{tid}:dispatch"))
    assert (dispatch.status, dispatch.started_at, dispatch.due_at) == ("running", authorized_at, authorized_at + timedelta(minutes=10))
    verdicts = [(e.data["timer"], e.data["outcome"]) for e in outbox.published if e.type == subjects.SLA_TIMER_STOPPED]
    assert verdicts == [("response", "met")]


async def test_emergency_work_has_the_agencys_decision_due_and_the_decision_stops_it(
    broker: Any, mongo_timer_store: MongoTimerStore
) -> None:
    store, outbox = mongo_timer_store, MemoryOutbox()
    publisher = await _wire(broker, store, outbox)
    approved_id, declined_id, t0 = f"tkt-{uuid.uuid4().hex[:10]}", f"tkt-{uuid.uuid4().hex[:10]}", _ms(datetime.now(UTC))

    for tid in (approved_id, declined_id):
        await publisher.publish(_created(tid, t0, emergency=True))
    for tid in (approved_id, declined_id):
        clock = await eventually(lambda tid=tid: store.get(f"{tid}:authorization"))
        assert (clock.status, clock.due_at) == ("running", t0 + timedelta(hours=2))  # SLA_AUTHORIZATION_WORKING_HOURS=2
        assert (await eventually(lambda tid=tid: store.get(f"{tid}:dispatch"))).started_at == t0  # went out at once

    await publisher.publish(_authorized(approved_id, t0 + timedelta(minutes=50), dispatch=False))
    declined = TicketAuthorizationDeclinedV1(ticket_id=declined_id, number="INC-2026-000022", service_code="RS-ONSITE",
                                            note="不同意", declined_at=t0 + timedelta(minutes=70), by="zhou", emergency=True)
    await publisher.publish(Envelope.wrap(declined, producer="intake", correlation_id="c", subject_id=declined_id))

    async def decided(tid: str) -> Any:
        t = await store.get(f"{tid}:authorization")
        return t if t is not None and t.status != "running" else None

    assert (await eventually(lambda: decided(approved_id))).stopped_at == t0 + timedelta(minutes=50)
    assert (await eventually(lambda: decided(declined_id))).stopped_at == t0 + timedelta(minutes=70)
    # The approval of work already out started no second dispatch clock.
    assert (await store.get(f"{approved_id}:dispatch")).started_at == t0  # type: ignore[union-attr]

