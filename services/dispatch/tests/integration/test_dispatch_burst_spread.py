"""A burst of tickets decided at once is spread over the engineers (issue 17): each decision counts its engineer at
once (dispatch/loads.py), so the decisions made meanwhile see the load. Before, the 32 handlers of a pulled batch
all chose the same engineer (loads counted only once stored), and their load updates queued on that engineer's
document one after another. On both stores."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from dispatch import service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryRoster
from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.domain import Engineer
from opsdesk_shared.contracts import Requester, TicketCreatedV1
from opsdesk_shared.outbox import MemoryOutbox

pytestmark = pytest.mark.integration

TEAM = tuple(Engineer(id=f"eng-{n}", name=f"工程師{n}", role="onsite", skills=("printer",), capacity=20) for n in range(4))


async def test_thirty_two_tickets_at_once_are_spread_over_the_team_in_memory() -> None:
    await _burst(MemoryRoster(TEAM), MemoryAssignmentStore())


async def test_thirty_two_tickets_at_once_are_spread_over_the_team_on_the_database(mongo_db: Any) -> None:
    roster = MongoRoster(mongo_db)
    await roster.seed(TEAM)
    await _burst(roster, MongoAssignmentStore(mongo_db))


async def _burst(roster: Any, assignments: Any) -> None:
    outbox = MemoryOutbox()
    tickets = [
        TicketCreatedV1(ticket_id=str(uuid.uuid4()), number=f"INC-2026-{n:06d}", title="打印機卡紙", channel="hotline",
                        service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=datetime.now(UTC))
        for n in range(32)
    ]
    chosen = await asyncio.gather(*(
        service.assign_ticket(t, roster=roster, assignments=assignments, outbox=outbox, now=datetime.now(UTC),
                              correlation_id="c", causation_id=None)
        for t in tickets
    ))
    per_engineer = Counter(a.engineer_id for a in chosen)
    assert sorted(per_engineer.values()) == [8, 8, 8, 8], per_engineer  # was {eng-0: 32}
    loads = {e.id: e.open_load for e in await roster.engineers()}
    assert loads == {e.id: 8 for e in TEAM}, loads  # every reservation released, the stored loads count them
