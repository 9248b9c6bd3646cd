"""NATS users on a real nats-server, configured from bus_permissions: who may publish, consume and answer what."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig

from opsdesk_devstack.infra import Nats
from opsdesk_devstack.natsconf import deploy_config
from opsdesk_devstack.testing import collect
from opsdesk_shared.bus import DEADLETTER_STREAM, EVENT_SUBJECTS, EVENTS_STREAM, JetStreamPublisher, subscribe_events
from opsdesk_shared.bus_permissions import OBSERVER, ROLES, SERVICES, inbox_prefix, owner_of
from opsdesk_shared.contracts import REGISTRY, Envelope, Requester, TicketCreatedV1, subjects

pytestmark = pytest.mark.integration


class Conn:
    """A plain client signed in as one user, recording the permission errors the server sends it."""

    def __init__(self, nc: Client, errors: list[str]) -> None:
        self.nc = nc
        self.errors = errors

    async def publish(self, subject: str, payload: bytes = b"{}") -> bool:
        """True when the server let the message through, False when it answered a permissions violation."""
        before = len(self.errors)
        await self.nc.publish(subject, payload)
        await self.nc.flush()
        await asyncio.sleep(0.05)  # the -ERR comes before the PONG; give the error callback its turn
        return not any("permissions violation" in e.lower() for e in self.errors[before:])


@pytest.fixture
async def connect(nats_server: Nats) -> AsyncIterator[Any]:
    made: list[Client] = []

    async def as_user(user: str) -> Conn:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc = await nats.connect(
            nats_server.url, user=user, password=nats_server.passwords[user], inbox_prefix=inbox_prefix(user),
            error_cb=on_error, allow_reconnect=False,
        )
        made.append(nc)
        return Conn(nc, errors)

    yield as_user
    for nc in made:
        await nc.close()


def _ticket_created() -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"c-{ticket_id}", subject_id=ticket_id)


async def _stored(broker: Any, subject: str) -> int:
    """How many messages on `subject` reached a stream (read with the test user)."""
    js = broker.config.connection_state.stream
    stream = DEADLETTER_STREAM if subject.startswith("deadletter.") else EVENTS_STREAM
    info = await js.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


# --- the table itself -------------------------------------------------------------------------------------------


def test_every_event_type_has_exactly_one_publisher_and_lives_in_the_events_stream() -> None:
    for event_type, _ in REGISTRY:
        owners = [role.service for role in ROLES.values() if event_type in role.publishes]
        assert len(owners) == 1, f"{event_type}: published by {owners}"
        assert any(event_type.startswith(family.removesuffix(">")) for family in EVENT_SUBJECTS), event_type


def test_every_request_a_service_asks_is_answered_by_another() -> None:
    answered = {subject for role in ROLES.values() for subject in role.answers}
    for role in ROLES.values():
        assert set(role.requests) <= answered, role.service
        assert not set(role.requests) & set(role.answers)


def test_durable_names_are_unique_across_services() -> None:
    durables = [c.durable for role in ROLES.values() for c in role.consumes]
    assert len(durables) == len(set(durables))


def test_deploy_config_reads_every_password_from_the_environment() -> None:
    text = deploy_config()
    for service in SERVICES:
        assert f'user: "{service}", password: $NATS_PASSWORD_{service.upper().replace("-", "_")},' in text
    assert "no_auth_user" not in text.replace("# No no_auth_user", "")


# --- the real server ------------------------------------------------------------------------------------------


async def test_anonymous_client_is_refused(nats_server: Nats) -> None:
    with pytest.raises(Exception, match="(?i)authorization"):
        await nats.connect(nats_server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_wrong_password_is_refused(nats_server: Nats) -> None:
    with pytest.raises(Exception, match="(?i)authorization"):
        await nats.connect(nats_server.url, user="knowledge", password="guessed", allow_reconnect=False,
                           max_reconnect_attempts=0, connect_timeout=2)


@pytest.mark.parametrize("service", SERVICES)
async def test_service_publishes_its_own_events_and_is_refused_on_another_services(
    service: str, connect: Any, broker: Any
) -> None:
    conn = await connect(service)
    own = ROLES[service].publishes
    for subject in own:
        assert await conn.publish(subject), f"{service} refused on its own {subject}"
        assert await _stored(broker, subject) == 1
    foreign = [s for other in SERVICES if other != service for s in ROLES[other].publishes[:2]]
    for subject in foreign:
        assert not await conn.publish(subject), f"{service} allowed to publish {subject} (owned by {owner_of(subject)})"
        assert await _stored(broker, subject) == 0


async def test_knowledge_cannot_publish_ticket_created_even_through_jetstream(connect: Any, broker: Any) -> None:
    conn = await connect("knowledge")
    js = conn.nc.jetstream()
    with pytest.raises(Exception):  # noqa: B017 - the server drops it; the client only sees no ack
        await js.publish(subjects.TICKET_CREATED, _ticket_created().to_wire(), stream=EVENTS_STREAM, timeout=1)
    assert any("permissions violation" in e.lower() and subjects.TICKET_CREATED in e for e in conn.errors)
    assert await _stored(broker, subjects.TICKET_CREATED) == 0


async def test_only_knowledge_publishes_kb_suggested(connect: Any, broker: Any) -> None:
    for service in SERVICES:
        conn = await connect(service)
        assert await conn.publish(subjects.KB_SUGGESTED) is (service == "knowledge"), service
    assert await _stored(broker, subjects.KB_SUGGESTED) == 1


async def test_service_cannot_subscribe_to_events_or_another_services_inbox(connect: Any) -> None:
    conn = await connect("knowledge")
    for subject in (subjects.TICKET_CREATED, "ticket.>", f"{inbox_prefix('intake')}.>", "_INBOX.>", subjects.CALENDAR_QUERY):
        before = len(conn.errors)
        await conn.nc.subscribe(subject)
        await conn.nc.flush()
        await asyncio.sleep(0.05)
        assert any("permissions violation" in e.lower() for e in conn.errors[before:]), subject


async def test_service_consumes_through_its_durable_acks_and_dead_letters(nats_server: Nats, service_broker: Any, broker: Any) -> None:
    dispatch = await service_broker("dispatch")
    seen: list[str] = []

    async def handler(envelope: Envelope, data: Any) -> None:
        seen.append(envelope.subject_id)

    subscribe_events(dispatch, subject=subjects.TICKET_CREATED, durable="dispatch-ticket-created", handler=handler, max_deliver=2)
    await dispatch.start()
    good = _ticket_created()
    await JetStreamPublisher(broker).publish(good)  # the test user plays intake
    await broker.publish(b'{"not": "an envelope"}', subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM)

    js = broker.config.connection_state.stream
    for _ in range(100):
        info = await js.consumer_info(EVENTS_STREAM, "dispatch-ticket-created")
        if info.ack_floor.stream_seq >= 2 and info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    assert seen == [good.subject_id]
    assert info.ack_floor.stream_seq >= 2 and info.num_ack_pending == 0, "acks were refused"
    assert await _stored(broker, subjects.deadletter_subject(subjects.TICKET_CREATED)) == 1


async def test_family_consumer_of_reporting_is_allowed(service_broker: Any, broker: Any) -> None:
    reporting = await service_broker("reporting")
    seen: list[str] = []

    async def handler(envelope: Envelope, data: Any) -> None:
        seen.append(envelope.type)

    subscribe_events(reporting, subject="ticket.>", durable="reporting-ticket", handler=handler, max_deliver=2)
    await reporting.start()
    await JetStreamPublisher(broker).publish(_ticket_created())
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.05)
    assert seen == [subjects.TICKET_CREATED]


async def test_service_cannot_widen_its_consumer_or_pull_another_services(connect: Any, service_broker: Any) -> None:
    await service_broker("knowledge")  # streams exist
    conn = await connect("dispatch")
    js = conn.nc.jetstream(timeout=1)
    with pytest.raises(Exception):  # noqa: B017 - refused by the server: the client sees no answer
        await js.add_consumer(EVENTS_STREAM, ConsumerConfig(name="dispatch-ticket-created", durable_name="dispatch-ticket-created", filter_subject="kb.>"))
    with pytest.raises(Exception):  # noqa: B017
        await js.add_consumer(EVENTS_STREAM, ConsumerConfig(name="spy", durable_name="spy", filter_subject=subjects.TICKET_CREATED))
    before = len(conn.errors)
    await conn.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.knowledge-ticket-created", b"1", reply=f"{inbox_prefix('dispatch')}.x")
    await conn.nc.flush()
    await asyncio.sleep(0.05)
    assert any("permissions violation" in e.lower() for e in conn.errors[before:])
    for forbidden in (f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}", f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}", f"$JS.API.STREAM.MSG.GET.{EVENTS_STREAM}"):
        assert not await conn.publish(forbidden), forbidden


async def test_gateway_asks_the_sla_monitor_and_others_cannot(connect: Any) -> None:
    sla = await connect("sla-monitor")

    async def answer(msg: Any) -> None:
        await msg.respond(b'{"ok": true}')

    await sla.nc.subscribe(subjects.CALENDAR_QUERY, queue="sla-monitor", cb=answer)
    await sla.nc.flush()
    intake = await connect("intake")
    reply = await intake.nc.request(subjects.CALENDAR_QUERY, b"{}", timeout=2)
    assert json.loads(reply.data) == {"ok": True}
    assert not any("violation" in e.lower() for e in sla.errors + intake.errors)
    knowledge = await connect("knowledge")
    assert not await knowledge.publish(subjects.CALENDAR_QUERY)
    # allow_responses is one reply to a request received, not a licence to publish on anyone's inbox.
    assert not await sla.publish(f"{inbox_prefix('intake')}.forged")


async def test_observer_reads_the_stream_but_publishes_nothing(nats_server: Nats, connect: Any, broker: Any) -> None:
    await JetStreamPublisher(broker).publish(_ticket_created())
    observer = await connect(OBSERVER)

    class Shim:  # collect() reads through a broker's JetStream context
        class config:
            class connection_state:
                stream = observer.nc.jetstream()

    got = await collect(Shim, subjects.TICKET_CREATED, want=1, timeout=3)
    assert [m["subject"] for m in got] == [subjects.TICKET_CREATED]
    assert not await observer.publish(subjects.TICKET_CREATED)
    assert not await observer.publish(f"$JS.API.CONSUMER.DELETE.{EVENTS_STREAM}.dispatch-ticket-created")
