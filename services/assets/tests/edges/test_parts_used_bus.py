"""assets' bus edge: an engineer's completion (assignment.completed, durable assets-assignment-completed) issues its
stock parts against the ticket, once per event, on FastStream's in-memory broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from faststream.nats import NatsBroker, TestNatsBroker

from assets import service_ops
from assets.adapters.memory import MemoryAssetRegister, MemoryDocs, MemoryOutbox
from assets.entrypoints import bus
from assets.settings import AssetsSettings
from opsdesk_shared.bus import EVENTS_STREAM
from opsdesk_shared.contracts import AssignmentCompletedV1, Envelope, PartUsedV1, Requester, TicketCreatedV1, subjects

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def test_a_completion_on_the_bus_issues_its_stock_parts_once() -> None:
    outbox = MemoryOutbox()
    spares, links = MemoryDocs(outbox), MemoryDocs()
    await service_ops.on_ticket_event(TicketCreatedV1(
        ticket_id="t-1", number="INC-1", title="打印件有黑线", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=T0), links=links)
    await service_ops.set_stock(part_type="fuser-unit", site="主楼", received=3, minimum=1, reorder_quantity=None, spares=spares)
    broker = NatsBroker()
    bus.register(broker, assets=MemoryAssetRegister([]), links=links, settings=AssetsSettings(),
                 spare_docs=bus.SpareDocs(spares=spares, issues=MemoryDocs(), outcomes=MemoryDocs(outbox)))
    completed = AssignmentCompletedV1(
        ticket_id="t-1", assignment_id="a-1", engineer_id="eng-onsite-1", record="更换定影组件", completed_at=T0,
        parts_used=[PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1)], site="主楼", by="user:eng-1",
    )
    envelope = Envelope.wrap(completed, producer="dispatch", correlation_id="corr", subject_id="t-1")
    reply = f"$JS.ACK.{EVENTS_STREAM}.{bus.COMPLETED_DURABLE}.1.7.7.1767225600000000000.0"
    async with TestNatsBroker(broker) as br:
        for _ in range(2):  # redelivered
            await br.publish(envelope.to_wire(), subject=subjects.ASSIGNMENT_COMPLETED, stream=EVENTS_STREAM, reply_to=reply)

    line = await service_ops.get_stock("fuser-unit", "主楼", spares=spares)
    assert line is not None and line.available == 2
    assert [e.type for e in outbox.published] == [subjects.CMDB_SPARE_ISSUED]
    assert outbox.published[0].correlation_id == "corr"


async def test_a_returned_record_on_the_bus_gives_its_parts_back_and_the_redo_takes_them_once() -> None:
    from opsdesk_shared.contracts import ServiceRecordReviewedV1

    outbox = MemoryOutbox()
    spares, links = MemoryDocs(outbox), MemoryDocs()
    await service_ops.on_ticket_event(TicketCreatedV1(
        ticket_id="t-1", number="INC-1", title="打印件有黑线", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=T0), links=links)
    await service_ops.set_stock(part_type="fuser-unit", site="主楼", received=3, minimum=1, reorder_quantity=None, spares=spares)
    broker = NatsBroker()
    bus.register(broker, assets=MemoryAssetRegister([]), links=links, settings=AssetsSettings(),
                 spare_docs=bus.SpareDocs(spares=spares, issues=MemoryDocs(), outcomes=MemoryDocs(outbox)))

    def completion(minutes: int) -> Envelope:
        done = AssignmentCompletedV1(
            ticket_id="t-1", assignment_id="a-1", engineer_id="eng-onsite-1", record="更换定影组件",
            completed_at=T0 + timedelta(minutes=minutes), parts_used=[PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1)],
            site="主楼", by="user:eng-1",
        )
        return Envelope.wrap(done, producer="dispatch", correlation_id="corr", subject_id="t-1")

    returned = Envelope.wrap(ServiceRecordReviewedV1(
        ticket_id="t-1", number="INC-1", assignment_id="a-1", engineer_id="eng-onsite-1", decision="returned",
        note="缺少测试页", by="user:desk-1", reviewed_at=T0 + timedelta(minutes=10)), producer="intake", correlation_id="c2",
        subject_id="t-1")
    async with TestNatsBroker(broker) as br:
        await br.publish(completion(0).to_wire(), subject=subjects.ASSIGNMENT_COMPLETED, stream=EVENTS_STREAM,
                         reply_to=f"$JS.ACK.{EVENTS_STREAM}.{bus.COMPLETED_DURABLE}.1.7.7.1767225600000000000.0")
        await br.publish(returned.to_wire(), subject=subjects.TICKET_SERVICE_RECORD_REVIEWED, stream=EVENTS_STREAM,
                         reply_to=f"$JS.ACK.{EVENTS_STREAM}.{bus.REVIEWED_DURABLE}.1.8.8.1767225600000000000.0")
        await br.publish(completion(30).to_wire(), subject=subjects.ASSIGNMENT_COMPLETED, stream=EVENTS_STREAM,
                         reply_to=f"$JS.ACK.{EVENTS_STREAM}.{bus.COMPLETED_DURABLE}.1.9.9.1767225600000000000.0")

    line = await service_ops.get_stock("fuser-unit", "主楼", spares=spares)
    assert line is not None and line.on_hand == 2
    assert [e.type for e in outbox.published] == [
        subjects.CMDB_SPARE_ISSUED, subjects.CMDB_SPARE_ISSUE_REVERSED, subjects.CMDB_SPARE_ISSUED]
