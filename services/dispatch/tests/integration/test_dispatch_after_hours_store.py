"""A ticket held outside service hours, and taken at the next on-site period, on both stores: the hold, its reason
code and parameters and the history's codes survive the real database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch import service
from dispatch.adapters.memory import MemoryOutbox, MemoryRoster
from dispatch.domain import DEMO_ROSTER
from dispatch.ports import AssignmentStore
from opsdesk_shared.contracts import Requester, TicketCreatedV1

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2026, 11, 26, 20, 0, tzinfo=SHANGHAI)
MORNING = datetime(2026, 11, 27, 8, 30, tzinfo=SHANGHAI)


async def test_a_held_ticket_is_stored_waiting_and_taken_in_the_morning(assignments: AssignmentStore) -> None:
    roster, outbox = MemoryRoster(DEMO_ROSTER), MemoryOutbox()
    created = TicketCreatedV1(
        ticket_id="t-night", number="INC-2026-000901", title="打印机卡纸", channel="hotline", service_code="RS-REPAIR",
        skill="printer", requester=Requester(name="王小明"), reported_at=EVENING, site="主楼",
    )

    await service.assign_ticket(created, roster=roster, assignments=assignments, outbox=outbox, now=EVENING,
                                correlation_id="c", causation_id=None)

    held = await assignments.get("t-night")
    assert held is not None and held.status == "unassigned" and held.held_until == MORNING
    assert held.reason_code == "held_after_hours" and held.reason_params["work"] == "visit"
    assert held.history[-1].code == "held_after_hours"

    taken = await service.assign_waiting("t-night", roster=roster, assignments=assignments, outbox=outbox, now=MORNING,
                                         correlation_id="c")
    stored = await assignments.get("t-night")
    assert taken is not None and stored is not None and stored.status == "open" and stored.held_until is None
    assert stored.duty == "onsite" and stored.reason_code == "chosen" and stored.reason_params["duty"] == "onsite"
    assert stored.engineer_id in {"eng-onsite-1", "eng-onsite-2", "eng-mobile-1"} and stored.assigned_at == MORNING
