"""Issue 14 on the real nats-server: healthy messages are never dead-lettered for an outage or a lost race, and no
core subscriber answers the JetStream publish requests it also hears."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from opsdesk_devstack.testing import collect
from opsdesk_shared.bus import (
    EVENTS_STREAM,
    JetStreamPublisher,
    KeyedLocks,
    is_transient,
    subscribe_events,
    subscribe_view,
)
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, subjects
from opsdesk_shared.errors import Contention


def ticket_created(ticket_id: str) -> Envelope:
    data = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title="x", channel="web", service_code="RS-OTHER",
        requester=Requester(name="a"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(data, producer="test", correlation_id=f"cid-{ticket_id}", subject_id=ticket_id)


def test_outages_and_lost_races_are_transient_and_bugs_are_not() -> None:
    assert is_transient(AutoReconnect("db restarting"))
    assert is_transient(Contention("candidate c-1"))
    try:
        raise RuntimeError("wrapped") from AutoReconnect("db restarting")
    except RuntimeError as exc:
        assert is_transient(exc)
    assert not is_transient(RuntimeError("a bug"))
    assert not is_transient(ValueError("bad data"))


async def test_keyed_locks_serialise_overlapping_keys_and_let_others_run() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {}
    most: dict[str, int] = {}

    async def work(keys: list[str], tag: str) -> None:
        async with locks.hold(keys):
            inside[tag] = inside.get(tag, 0) + 1
            most[tag] = max(most.get(tag, 0), inside[tag])
            await asyncio.sleep(0.01)
            inside[tag] -= 1

    # "svc:A" with and without an asset: all share svc:A, so one at a time; the same keys in any order never deadlock.
    await asyncio.wait_for(asyncio.gather(
        *(work(["svc:A", "asset:T"] if n % 2 else ["asset:T", "svc:A"], "A") for n in range(20)),
        *(work(["svc:B"], "B") for n in range(5)),
    ), timeout=5)
    assert most["A"] == 1
    assert not locks._locks  # nothing kept once nobody holds or waits


@pytest.mark.integration
@pytest.mark.parametrize("failure", [Contention("lost a race"), AutoReconnect("database restarting")], ids=["race", "outage"])
async def test_transient_failure_is_retried_past_max_deliver_and_never_dead_lettered(broker: Any, failure: Exception) -> None:
    attempts = 0

    async def handler(envelope: Envelope, data: TicketCreatedV1) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 6:  # twice max_deliver: a burst, or a database restart, lasting longer than the budget
            raise failure

    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-transient", handler=handler, max_deliver=3)
    await broker.start()
    await JetStreamPublisher(broker).publish(ticket_created("t-transient"))
    for _ in range(300):
        if attempts >= 7:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert attempts == 7
    assert await collect(broker, "deadletter.>", want=1, timeout=0.5) == []


async def _replies_to_publishes(broker: Any, count: int) -> list[list[bytes]]:
    """Publish `count` events to JetStream as a raw request each, keeping every reply its inbox receives."""
    nc = broker.config.connection_state.connection
    replies: list[list[bytes]] = []
    subs = []
    for n in range(count):
        got: list[bytes] = []
        replies.append(got)
        inbox = nc.new_inbox()

        async def keep(msg: Any, got: list[bytes] = got) -> None:
            got.append(msg.data)

        subs.append(await nc.subscribe(inbox, cb=keep))
        event = ticket_created(f"t-view-{n}")
        await nc.publish(subjects.TICKET_CREATED, event.to_wire(), reply=inbox, headers={"Nats-Msg-Id": str(event.event_id)})
    await nc.flush()
    await asyncio.sleep(1.0)
    for sub in subs:
        await sub.unsubscribe()
    return replies


def _bad_acks(replies: list[list[bytes]]) -> int:
    """Replies that are not the stream's one acknowledgement (an empty body fails a publish with JSONDecodeError)."""
    bad = 0
    for got in replies:
        acks = [r for r in got if r and json.loads(r).get("stream") == EVENTS_STREAM]
        bad += len(got) - len(acks) + (0 if len(acks) == 1 else 1)
    return bad


@pytest.mark.integration
async def test_view_subscriber_never_answers_jetstream_publishes(broker: Any) -> None:
    heard: list[str] = []

    async def on_ticket(envelope: Envelope) -> None:
        heard.append(str(envelope.subject_id))

    subscribe_view(broker, subject="ticket.>", handler=on_ticket)
    await broker.start()
    replies = await _replies_to_publishes(broker, 50)
    assert len(heard) == 50  # the view heard every event
    assert _bad_acks(replies) == 0  # and each publish got exactly the stream's ack


@pytest.mark.integration
async def test_the_ack_count_catches_a_subscriber_that_answers(broker: Any) -> None:
    """The check above can fail: a plain core subscriber (as intake's index had) answers every publish with an
    empty message beside the stream's ack."""

    @broker.subscriber("ticket.>")
    async def answering(msg: Any) -> None:
        return None

    await broker.start()
    replies = await _replies_to_publishes(broker, 20)
    assert _bad_acks(replies) > 0
    assert any(b"" in got for got in replies)
