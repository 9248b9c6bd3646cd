"""The outbox on the real database and NATS: an event stored with its change is never lost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opsdesk_devstack.testing import collect
from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1
from opsdesk_shared.outbox import OUTBOX_FIELD, OutboxRelay, outbox_fields, outbox_push

pytestmark = pytest.mark.integration


def event(n: int) -> Envelope:
    data = TicketCreatedV1(
        ticket_id=f"t-{n}", number=f"INC-2026-{n:06d}", title="x", channel="web", service_code="RS-OTHER",
        requester=Requester(name="a"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(data, producer="test", correlation_id=f"c-{n}", subject_id=f"t-{n}")


class DownPublisher:
    async def publish(self, envelope: Envelope) -> None:
        raise ConnectionError("nats is down")


async def test_delivered_events_are_cleared_from_the_document(mongo_db, broker) -> None:
    coll = mongo_db["things"]
    e = event(1)
    await coll.insert_one({"_id": "a", **outbox_fields([e])})
    relay = OutboxRelay(coll, JetStreamPublisher(broker))
    assert await relay.deliver("a", [e])
    doc = await coll.find_one({"_id": "a"})
    assert doc[OUTBOX_FIELD] == []
    got = await collect(broker, "ticket.created", want=1)
    assert got[0]["body"]["event_id"] == str(e.event_id)
    assert got[0]["headers"]["Nats-Msg-Id"] == str(e.event_id)


async def test_events_stored_while_nats_is_down_are_sent_by_the_sweep(mongo_db, broker) -> None:
    coll = mongo_db["things"]
    events = [event(1), event(2)]
    await coll.insert_one({"_id": "a", **outbox_fields(events[:1])})
    await coll.update_one({"_id": "a"}, {"$push": outbox_push(events[1:])})
    down = OutboxRelay(coll, DownPublisher())
    assert not await down.deliver("a", events)
    assert len((await coll.find_one({"_id": "a"}))[OUTBOX_FIELD]) == 2  # nothing lost

    # A restarted process (new relay) sweeps at start-up.
    assert await OutboxRelay(coll, JetStreamPublisher(broker)).sweep() == 2
    got = await collect(broker, "ticket.created", want=2)
    assert [g["body"]["event_id"] for g in got] == [str(e.event_id) for e in events]
    doc = await coll.find_one({"_id": "a"})
    assert doc[OUTBOX_FIELD] == []
    assert await OutboxRelay(coll, JetStreamPublisher(broker)).sweep() == 0


async def test_sweep_after_crash_between_publish_and_clear_does_not_duplicate_in_stream(mongo_db, broker) -> None:
    coll = mongo_db["things"]
    e = event(3)
    await coll.insert_one({"_id": "a", **outbox_fields([e])})
    await JetStreamPublisher(broker).publish(e)  # published, then the process died before clearing
    assert await OutboxRelay(coll, JetStreamPublisher(broker)).sweep() == 1
    info = await broker.config.connection_state.stream.stream_info("OPSDESK_EVENTS")
    assert info.state.messages == 1


async def test_event_appended_during_delivery_is_kept_for_the_sweep(mongo_db, broker) -> None:
    coll = mongo_db["things"]
    first, second = event(4), event(5)
    await coll.insert_one({"_id": "a", **outbox_fields([first])})

    class AppendingPublisher(JetStreamPublisher):
        async def publish(self, envelope: Envelope) -> None:
            await super().publish(envelope)
            if envelope.event_id == first.event_id:
                await coll.update_one({"_id": "a"}, {"$push": outbox_push([second])})

    assert await OutboxRelay(coll, AppendingPublisher(broker)).deliver("a", [first])
    doc = await coll.find_one({"_id": "a"})
    assert [x["event_id"] for x in doc[OUTBOX_FIELD]] == [str(second.event_id)]
    assert await OutboxRelay(coll, JetStreamPublisher(broker)).sweep() == 1


async def test_failed_delivery_is_retried_by_the_same_process_once_nats_answers(mongo_db, broker) -> None:
    coll = mongo_db["things"]
    e = event(6)
    await coll.insert_one({"_id": "a", **outbox_fields([e])})

    class FlakyPublisher(JetStreamPublisher):
        down = True

        async def publish(self, envelope: Envelope) -> None:
            if self.down:
                raise ConnectionError("nats is down")
            await super().publish(envelope)

    publisher = FlakyPublisher(broker)
    relay = OutboxRelay(coll, publisher)
    assert not await relay.deliver("a", [e])
    with pytest.raises(ConnectionError):  # still down: nothing sent, nothing lost, still queued for retry
        await relay.retry_failed()
    assert len((await coll.find_one({"_id": "a"}))[OUTBOX_FIELD]) == 1
    publisher.down = False
    assert await relay.retry_failed() == 1
    assert (await coll.find_one({"_id": "a"}))[OUTBOX_FIELD] == []
    assert await relay.retry_failed() == 0


async def test_with_markers_the_sweep_finds_pending_documents_without_scanning(mongo_db, broker) -> None:
    from opsdesk_shared.outbox import mark_pending, pending_collection

    coll = mongo_db["timers"]
    e = event(7)
    await mark_pending(coll, "t-7")
    await coll.insert_one({"_id": "t-7", **outbox_fields([e])})  # crashed before publishing
    await coll.insert_one({"_id": "unmarked", **outbox_fields([event(8)])})  # not noted: a marker relay ignores it
    await mark_pending(coll, "never-written")  # crashed between the note and the write
    relay = OutboxRelay(coll, JetStreamPublisher(broker), markers=True)
    assert await relay.sweep() == 1
    got = await collect(broker, "ticket.created", want=2, timeout=1)
    assert [g["body"]["event_id"] for g in got] == [str(e.event_id)]
    assert await pending_collection(coll).count_documents({}) == 0
    e9 = event(9)
    await mark_pending(coll, "t-9")
    await coll.insert_one({"_id": "t-9", **outbox_fields([e9])})
    assert await relay.deliver("t-9", [e9])
    assert await pending_collection(coll).count_documents({}) == 0


async def test_relay_now_sends_at_once_what_a_crash_left_in_the_document(mongo_db, broker) -> None:
    """Issue 14, defect 3: a redelivered command finding its effect stored relays the events kept with it now."""
    coll = mongo_db["things"]
    e = event(6)
    await coll.insert_one({"_id": "a", **outbox_fields([e])})  # stored, then the writer died before publishing
    relay = OutboxRelay(coll, JetStreamPublisher(broker))
    assert await relay.relay_now("a") == 1
    got = await collect(broker, "ticket.created", want=1)
    assert [g["body"]["event_id"] for g in got] == [str(e.event_id)]
    assert (await coll.find_one({"_id": "a"}))[OUTBOX_FIELD] == []
    assert await relay.relay_now("a") == 0
    assert await relay.relay_now("missing") == 0


async def test_clean_up_failing_after_the_publish_is_no_error_and_is_finished_later(mongo_db, broker) -> None:
    """Issue 14, defect 4: the database dying after insert and publish must not turn a committed write into a 500."""
    from pymongo.errors import AutoReconnect

    coll = mongo_db["things"]
    e = event(7)
    await coll.insert_one({"_id": "a", **outbox_fields([e])})
    relay = OutboxRelay(coll, JetStreamPublisher(broker))
    real_remove = relay._remove

    async def database_gone(doc_id, sent) -> None:
        raise AutoReconnect("connection closed")

    relay._remove = database_gone  # type: ignore[method-assign]
    assert await relay.deliver("a", [e])  # published: the change and its event are out, whatever the clean-up did
    assert len((await coll.find_one({"_id": "a"}))[OUTBOX_FIELD]) == 1
    relay._remove = real_remove  # type: ignore[method-assign]
    assert await relay.retry_failed() == 1  # republished (JetStream drops the duplicate) and cleared
    assert (await coll.find_one({"_id": "a"}))[OUTBOX_FIELD] == []
    info = await broker.config.connection_state.stream.stream_info("OPSDESK_EVENTS")
    assert info.state.messages == 1


async def test_an_outage_met_anywhere_in_the_process_brings_the_next_sweep_forward(mongo_db, broker) -> None:
    """Issue 14, defect 3: a writer that failed after its write (the database died mid-way) leaves its events stored
    and in no retry list; the process noted the outage, so its relays sweep within seconds, not at the 300-s sweep."""
    from opsdesk_shared.errors import note_outage

    coll = mongo_db["things"]
    relay = OutboxRelay(coll, JetStreamPublisher(broker), full_sweep_s=300.0)
    relay.OUTAGE_SWEEP_DELAY_S = 0.0  # type: ignore[misc]
    relay.OUTAGE_SWEEP_GAP_S = 0.0  # type: ignore[misc]
    await relay.step()  # the start-up sweep: nothing yet
    e = event(8)
    await coll.insert_one({"_id": "a", **outbox_fields([e])})  # written, then its writer failed
    await relay.step()
    assert len((await coll.find_one({"_id": "a"}))[OUTBOX_FIELD]) == 1  # not due: it would wait minutes

    note_outage()  # e.g. the handler's AutoReconnect, or a 503 answered for one
    await relay.step()

    assert (await coll.find_one({"_id": "a"}))[OUTBOX_FIELD] == []
    got = await collect(broker, "ticket.created", want=1)
    assert [g["body"]["event_id"] for g in got] == [str(e.event_id)]
