"""Issue 13 (item 7's dispatch side) on both stores: a ticket the desk resolved left a withdrawn record; once the
ticket is reopened and sent on again, its new hand-over opens the assignment anew (an engineer, their load counted
once), while a hand-over from before the resolution still assigns nobody, and a resolution heard after the new
hand-over withdraws nothing. A ticket the engineer's work resolved, reopened, goes back to that engineer to complete
again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch import service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryRoster
from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE, Actor
from opsdesk_shared.contracts import Requester, ServiceRecordReviewedV1, TicketCreatedV1, TicketReopenedV1
from opsdesk_shared.outbox import MemoryOutbox

pytestmark = pytest.mark.integration

CREATED = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
RESOLVED = CREATED + timedelta(minutes=3)
SENT_ON_AGAIN = CREATED + timedelta(minutes=20)


def ticket(n: int) -> TicketCreatedV1:
    return TicketCreatedV1(
        ticket_id=f"reopened-{n}", number=f"INC-2026-{n:06d}", title="打印机又不出纸", channel="hotline",
        service_code="RS-REPAIR", skill="printer", requester=Requester(name="陈伟"), reported_at=CREATED,
    )


class Rig:
    async def build(self, backend: Any) -> Rig:
        self.outbox = MemoryOutbox()
        if backend is None:
            self.roster: Any = MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE)
            self.store: Any = MemoryAssignmentStore(outbox=self.outbox)
        else:
            self.roster = MongoRoster(backend, cache_s=0.0)
            await self.roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
            self.store = MongoAssignmentStore(backend)
        return self

    async def hand_over(self, t: TicketCreatedV1, *, at: datetime, event: str) -> Any:
        return await service.assign_ticket(
            t, roster=self.roster, assignments=self.store, outbox=self.outbox, now=at, correlation_id="c",
            causation_id=event, handed_over_at=at,
        )

    async def resolve(self, t: TicketCreatedV1, *, at: datetime, heard: datetime | None = None) -> str:
        return await service.withdraw(
            t.ticket_id, number=t.number, status="resolved", by="desk.zhou", roster=self.roster, assignments=self.store,
            now=heard or at, outbox=self.outbox, correlation_id="c", ended_at=at,
        )

    async def loads(self) -> dict[str, int]:
        return {e.id: e.open_load for e in await self.roster.engineers()}

    def assigned(self) -> list[str]:
        return [e.data["assignment_id"] for e in self.outbox.published if e.type == "ticket.assigned"]


@pytest.fixture
async def rig(backend: Any) -> Rig:
    return await Rig().build(backend)


async def test_a_desk_first_ticket_resolved_reopened_and_sent_on_is_assigned(rig: Rig) -> None:
    t = ticket(1)
    # Resolved at the desk before dispatch ever had it: remembered as withdrawn.
    assert await rig.resolve(t, at=RESOLVED) == "remembered"

    again = await rig.hand_over(t, at=SENT_ON_AGAIN, event="dispatch-requested-2")

    assert again.status == "open" and again.engineer_id and again.handed_over_at == SENT_ON_AGAIN
    assert [s.action for s in again.history] == ["withdrawn", "assigned"]  # the record kept
    assert rig.assigned() == [again.id]
    assert sum((await rig.loads()).values()) == 1
    stored = await rig.store.get(t.ticket_id)
    assert stored is not None and stored.id == again.id and stored.status == "open"


async def test_an_engineer_withdrawn_by_the_desk_resolution_comes_back_with_a_new_assignment_counted_once(rig: Rig) -> None:
    t = ticket(2)
    first = await rig.hand_over(t, at=CREATED, event="created-1")
    assert await rig.resolve(t, at=RESOLVED) == "withdrawn"
    assert sum((await rig.loads()).values()) == 0

    again = await rig.hand_over(t, at=SENT_ON_AGAIN, event="dispatch-requested-2")
    assert again.status == "open" and again.id != first.id
    assert sum((await rig.loads()).values()) == 1

    # JetStream redelivers the new hand-over: the same assignment, nothing counted or assigned twice.
    twice = await rig.hand_over(t, at=SENT_ON_AGAIN, event="dispatch-requested-2")
    assert twice.id == again.id and twice.version == again.version
    assert sum((await rig.loads()).values()) == 1
    assert rig.assigned() == [first.id, again.id]


async def test_a_hand_over_from_before_the_resolution_still_assigns_nobody(rig: Rig) -> None:
    t = ticket(3)
    assert await rig.resolve(t, at=RESOLVED) == "remembered"

    late = await rig.hand_over(t, at=CREATED, event="created-late")  # the ticket.created that arrived late

    assert late.status == "withdrawn" and late.engineer_id == ""
    assert rig.assigned() == [] and sum((await rig.loads()).values()) == 0


async def test_the_old_resolution_heard_after_the_new_hand_over_withdraws_nothing(rig: Rig) -> None:
    t = ticket(4)
    again = await rig.hand_over(t, at=SENT_ON_AGAIN, event="dispatch-requested-2")

    # dispatch's status consumer lags: the resolution (before the reopen) arrives after the new hand-over.
    assert await rig.resolve(t, at=RESOLVED, heard=SENT_ON_AGAIN + timedelta(seconds=5)) == "unchanged"

    stored = await rig.store.get(t.ticket_id)
    assert stored is not None and stored.status == "open" and stored.id == again.id
    assert sum((await rig.loads()).values()) == 1
    # A resolution after it still withdraws.
    assert await rig.resolve(t, at=SENT_ON_AGAIN + timedelta(minutes=1)) == "withdrawn"
    assert sum((await rig.loads()).values()) == 0


async def test_a_reopened_ticket_the_engineer_resolved_goes_back_to_them_to_complete_again(rig: Rig) -> None:
    """Intake gives it back to the engineer in progress; dispatch's completed (or reviewed) assignment followed
    nothing, so the engineer could not complete again (409) and their list never showed it."""
    t = ticket(5)
    held = await rig.hand_over(t, at=CREATED, event="created-5")
    engineer = Actor(subject="eng.user", role="engineer", engineer_id=held.engineer_id)
    await service.complete(t.ticket_id, work_done="更换搓纸轮", actor=engineer, roster=rig.roster, assignments=rig.store,
                           outbox=rig.outbox, now=RESOLVED, correlation_id="c")
    approved = ServiceRecordReviewedV1(ticket_id=t.ticket_id, number=t.number, assignment_id=held.id,
                                       engineer_id=held.engineer_id, decision="approved", by="desk.zhou", reviewed_at=RESOLVED)
    await service.record_review(approved, roster=rig.roster, assignments=rig.store, outbox=rig.outbox, now=RESOLVED,
                                correlation_id="c")
    assert (await rig.loads())[held.engineer_id] == 0

    reopened = TicketReopenedV1(ticket_id=t.ticket_id, number=t.number, reason="又卡纸了", reopened_at=SENT_ON_AGAIN,
                                by="chen.wei")
    back = await service.reopen_for_engineer(reopened, roster=rig.roster, assignments=rig.store)
    assert back is not None and back.status == "confirmed" and back.engineer_id == held.engineer_id
    assert back.history[-1].action == "reopened" and back.history[-1].note == "又卡纸了"
    assert (await rig.loads())[held.engineer_id] == 1
    # Redelivered: nothing changes, nothing counted twice.
    assert await service.reopen_for_engineer(reopened, roster=rig.roster, assignments=rig.store) is None
    assert (await rig.loads())[held.engineer_id] == 1

    again = await service.complete(t.ticket_id, work_done="更换定影组件", actor=engineer, roster=rig.roster,
                                   assignments=rig.store, outbox=rig.outbox, now=SENT_ON_AGAIN + timedelta(hours=1),
                                   correlation_id="c")
    assert again.status == "completed" and again.service_record is not None
    assert again.service_record.work_done == "更换定影组件" and again.service_record.review == "pending"
    assert (await rig.loads())[held.engineer_id] == 0


async def test_a_reopen_leaves_a_withdrawn_assignment_to_the_new_hand_over(rig: Rig) -> None:
    t = ticket(6)
    await rig.hand_over(t, at=CREATED, event="created-6")
    await rig.resolve(t, at=RESOLVED)
    reopened = TicketReopenedV1(ticket_id=t.ticket_id, number=t.number, reason="又坏了", reopened_at=SENT_ON_AGAIN, by="desk.zhou")

    assert await service.reopen_for_engineer(reopened, roster=rig.roster, assignments=rig.store) is None
    stored = await rig.store.get(t.ticket_id)
    assert stored is not None and stored.status == "withdrawn"
