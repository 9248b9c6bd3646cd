"""A service record the desk returns and the engineer completes again takes its stock parts once (hand walk, H14
item 1): the returned completion's issues go back to stock when the return is heard, whichever consumer is first.
On the memory store and on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assets import parts_used, service_ops
from assets.adapters.memory import MemoryDocs, MemoryOutbox
from assets.adapters.mongo import MongoDocs
from assets.service import Ctx
from opsdesk_shared.contracts import (
    AssignmentCompletedV1,
    Envelope,
    PartUsedV1,
    Requester,
    ServiceRecordReviewedV1,
    TicketCreatedV1,
)
from opsdesk_shared.contracts.cmdb import SpareIssuedV1, SpareIssueReversedV1

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
SITE = "主楼"


class Recorder:
    """Stands in for JetStream on the database: what the relay published."""

    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope)


class World:
    def __init__(self, make: Any, sent: Any) -> None:
        self.sent = sent  # has .published: what assets announced
        self.spares, self.issues, self.links, self.outcomes = make("spares", True), make("issues"), make("links"), make("outcomes", True)

    def of(self, kind: type) -> list[Envelope]:
        return [e for e in self.sent.published if e.type == kind.event_type]  # type: ignore[attr-defined]

    async def complete(self, event_id: str, at: datetime) -> parts_used.PartsOutcome:
        done = AssignmentCompletedV1(
            ticket_id="t-1", assignment_id="a-1", engineer_id="eng-1", record="更换定影组件", completed_at=at,
            parts_used=[PartUsedV1(part="定影组件", sku="fuser-unit", quantity=1)], site=SITE, by="user:eng-1",
        )
        ctx = Ctx(by="user:eng-1", now=at, correlation_id="corr", causation_id=event_id)
        return await parts_used.issue_parts_used(done, completion_event_id=event_id, spares=self.spares, issues=self.issues,
                                                 links=self.links, outcomes=self.outcomes, ctx=ctx)

    async def review(self, decision: str, at: datetime) -> int:
        review = ServiceRecordReviewedV1(ticket_id="t-1", number="INC-1", assignment_id="a-1", engineer_id="eng-1",
                                         decision=decision, note="缺少测试页", by="user:desk-1", reviewed_at=at)  # type: ignore[arg-type]
        return await parts_used.on_record_reviewed(review, spares=self.spares, issues=self.issues,
                                                   ctx=Ctx(by="user:desk-1", now=at, correlation_id="corr"))

    async def on_hand(self) -> int:
        line = await service_ops.get_stock("fuser-unit", SITE, spares=self.spares)
        assert line is not None
        return line.on_hand


@pytest.fixture(params=["memory", "mongo"])
def stores(request: pytest.FixtureRequest) -> World:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        outbox = MemoryOutbox()
        w = World(lambda name, relayed=False: MemoryDocs(outbox) if relayed else MemoryDocs(), outbox)
    else:
        db, recorder = request.getfixturevalue("mongo_db"), Recorder()
        w = World(lambda name, relayed=False: MongoDocs(db[name], recorder if relayed else None), recorder)
    return w


@pytest.fixture
async def world(stores: World) -> World:
    w = stores
    await service_ops.on_ticket_event(TicketCreatedV1(
        ticket_id="t-1", number="INC-1", title="打印件有黑线", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=T0), links=w.links)
    await service_ops.set_stock(part_type="fuser-unit", site=SITE, received=3, minimum=0, reorder_quantity=None, spares=w.spares)
    return w


async def test_a_returned_record_completed_again_takes_its_part_once(world: World) -> None:
    await world.complete("done-1", T0)
    assert await world.on_hand() == 2
    assert await world.review("returned", T0 + timedelta(minutes=5)) == 1
    assert await world.on_hand() == 3
    await world.complete("done-2", T0 + timedelta(minutes=30))
    await world.review("returned", T0 + timedelta(minutes=5))  # the return redelivered: nothing more comes back
    await world.review("approved", T0 + timedelta(minutes=40))
    assert await world.on_hand() == 2
    assert len(world.of(SpareIssuedV1)) == 2
    reversed_ = world.of(SpareIssueReversedV1)
    assert len(reversed_) == 1 and reversed_[0].data["reversed_by"] == "user:desk-1"


async def test_the_redo_heard_before_the_return_keeps_its_own_issue(world: World) -> None:
    await world.complete("done-1", T0)
    await world.complete("done-2", T0 + timedelta(minutes=30))  # the completions consumer ran ahead
    assert await world.on_hand() == 1
    await world.review("returned", T0 + timedelta(minutes=5))
    assert await world.on_hand() == 2
    await world.complete("done-2", T0 + timedelta(minutes=30))  # redelivered
    assert await world.on_hand() == 2


async def test_a_return_heard_before_its_completion_issues_nothing_for_it(world: World) -> None:
    await world.review("returned", T0 + timedelta(minutes=5))
    outcome = await world.complete("done-1", T0)
    assert outcome.issued == [] and await world.on_hand() == 3
    await world.complete("done-2", T0 + timedelta(minutes=30))
    assert await world.on_hand() == 2


async def test_an_approved_record_reopened_and_completed_again_keeps_both_issues(world: World) -> None:
    await world.complete("done-1", T0)
    await world.review("approved", T0 + timedelta(minutes=5))
    await world.complete("done-2", T0 + timedelta(days=1))
    assert await world.on_hand() == 1
