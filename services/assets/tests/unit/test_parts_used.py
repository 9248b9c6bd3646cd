"""The stock parts of an engineer's service record (assignment.completed) leave the spare stock against the ticket,
once per completion event; what cannot be issued is announced once as cmdb.spare_issue_refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assets import parts_used, service_ops, stock
from assets.adapters.memory import MemoryDocs, MemoryOutbox
from assets.service import Ctx
from opsdesk_shared.contracts import AssignmentCompletedV1, PartUsedV1, Requester, TicketCreatedV1
from opsdesk_shared.contracts.cmdb import SpareIssuedV1, SpareIssueRefusedV1

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
SITE = "主楼"


class World:
    def __init__(self) -> None:
        self.outbox = MemoryOutbox()  # everything assets announces, in order
        self.spares = MemoryDocs(self.outbox)
        self.issues = MemoryDocs()
        self.links = MemoryDocs()
        self.outcomes = MemoryDocs(self.outbox)

    async def issue(self, completed: AssignmentCompletedV1, event_id: str = "done-1") -> parts_used.PartsOutcome:
        ctx = Ctx(by=completed.by or completed.engineer_id, now=completed.completed_at, correlation_id="corr",
                  causation_id=event_id)
        return await parts_used.issue_parts_used(completed, completion_event_id=event_id, spares=self.spares,
                                                 issues=self.issues, links=self.links, outcomes=self.outcomes, ctx=ctx)

    async def available(self, part_type: str, site: str = SITE) -> int:
        found = await service_ops.get_stock(part_type, site, spares=self.spares)
        assert found is not None
        return found.available

    def announced(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.outbox.published if e.type == kind.event_type]


@pytest.fixture
async def world() -> World:
    w = World()
    await service_ops.on_ticket_event(TicketCreatedV1(
        ticket_id="t-1", number="INC-2026-000001", title="打印件有黑线", channel="hotline", service_code="RS-REPAIR",
        priority="P3", requester=Requester(name="王小明"), reported_at=T0,
    ), links=w.links)
    await service_ops.set_stock(part_type="fuser-unit", site=SITE, received=3, minimum=1, reorder_quantity=None, spares=w.spares)
    await service_ops.set_stock(part_type="toner-HP26A", site=SITE, received=1, minimum=0, reorder_quantity=None, spares=w.spares)
    return w


def completed(*parts: PartUsedV1, site: str | None = SITE, ticket_id: str = "t-1") -> AssignmentCompletedV1:
    return AssignmentCompletedV1(
        ticket_id=ticket_id, assignment_id="a-1", engineer_id="eng-onsite-1", record="更换定影组件", completed_at=T0,
        work_done="更换定影组件", parts_used=list(parts), site=site, by="user:eng-onsite-1",
    )


async def test_stock_parts_are_issued_against_the_ticket_at_its_site_by_who_completed(world: World) -> None:
    outcome = await world.issue(completed(PartUsedV1(part="定影组件", sku="fuser-unit", quantity=2),
                                          PartUsedV1(part="螺丝", quantity=4)))  # words only: recorded, not issued
    assert await world.available("fuser-unit") == 1
    issued = world.announced(SpareIssuedV1)
    assert [(e.data["part_type"], e.data["quantity"], e.data["ticket_id"], e.data["issued_by"]) for e in issued] == [
        ("fuser-unit", 2, "t-1", "user:eng-onsite-1")
    ]
    assert issued[0].causation_id == "done-1"
    assert len(outcome.issued) == 1 and outcome.refused == []
    # The issue is recorded beside the stock, so the desk can take it back.
    assert await world.issues.get(outcome.issued[0].issue_id) is not None
    assert world.announced(SpareIssueRefusedV1) == []


async def test_a_redelivered_completion_issues_nothing_twice(world: World) -> None:
    record = completed(PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1))
    await world.issue(record)
    again = await world.issue(record)
    assert await world.available("fuser-unit") == 2
    assert len(world.announced(SpareIssuedV1)) == 1
    assert again.issued == [] and again.already == 1


async def test_another_completion_of_the_same_part_is_issued_again(world: World) -> None:
    record = completed(PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1))
    await world.issue(record, "done-1")
    await world.issue(record, "done-2")
    assert await world.available("fuser-unit") == 1


async def test_unknown_and_short_parts_are_refused_once_and_the_rest_issued(world: World) -> None:
    record = completed(
        PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1),
        PartUsedV1(part="硒鼓", sku="toner-HP26A", quantity=2),
        PartUsedV1(part="搓纸轮", sku="pickup-roller", quantity=1),
    )
    outcome = await world.issue(record)
    await world.issue(record)  # redelivered: the refusal is not announced twice
    assert await world.available("fuser-unit") == 2
    assert await world.available("toner-HP26A") == 1  # a short line takes nothing
    assert [(r.sku, r.reason) for r in outcome.refused] == [("toner-HP26A", "not_enough_stock"), ("pickup-roller", "unknown_part")]
    refused = world.announced(SpareIssueRefusedV1)
    assert len(refused) == 1
    data = SpareIssueRefusedV1.model_validate(refused[0].data)
    assert data.ticket_id == "t-1" and data.completion_event_id == "done-1" and data.issued == 1
    assert "1 available, 2 wanted" in data.refused[0].detail
    assert refused[0].subject_id == "t-1"


async def test_without_a_site_no_stock_part_is_issued(world: World) -> None:
    outcome = await world.issue(completed(PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1), site=None))
    assert await world.available("fuser-unit") == 3
    assert [r.reason for r in outcome.refused] == ["no_site"]


async def test_parts_put_aside_for_the_ticket_are_the_ones_issued(world: World) -> None:
    ctx = Ctx(by="agent-1", now=T0, correlation_id="c")
    await service_ops.reserve_spare(part_type="fuser-unit", site=SITE, quantity=1, ticket_id="t-1", spares=world.spares, ctx=ctx)
    await service_ops.reserve_spare(part_type="fuser-unit", site=SITE, quantity=1, ticket_id=None, spares=world.spares, ctx=ctx)
    await world.issue(completed(PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1)))
    line = await service_ops.get_stock("fuser-unit", SITE, spares=world.spares)
    assert line is not None
    assert line.on_hand == 2 and [r.ticket_id for r in line.reservations.values()] == [None]


async def test_a_ticket_assets_never_heard_of_raises_for_redelivery(world: World) -> None:
    with pytest.raises(service_ops.UnknownTicket):
        await world.issue(completed(PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1), ticket_id="t-unknown"))
    assert await world.available("fuser-unit") == 3


def test_an_issue_id_is_issued_once_per_stock() -> None:
    line = stock.SpareStock(part_type="fuser-unit", site=SITE, on_hand=3)
    once, _ = stock.issue(line, quantity=1, ticket_id="t-1", reservation_id=None, asset_tag=None, now=T0, by="x", issue_id="i-1")
    with pytest.raises(stock.AlreadyIssued):
        stock.issue(once, quantity=1, ticket_id="t-1", reservation_id=None, asset_tag=None, now=T0, by="x", issue_id="i-1")
