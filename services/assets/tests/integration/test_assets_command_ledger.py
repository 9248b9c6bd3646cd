"""Database commands per ticket in assets' ticket view (issue 17), counted by a PyMongo command listener.

A ticket naming an asset is created, assigned and moves to assigned: the mapping of its number, its own mapping
(number, asset, holder, newest state) and its entry in the asset's document. Every change of an existing document
was the caller's read, then on FerretDB a read for the version check and another for the outbox the replace keeps;
the version check now brings the outbox in the same read. A new ticket's two mappings are inserted outright
(a read first only when the insert finds one already there).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assets import service_ops
from assets.adapters.mongo import MongoDocs
from opsdesk_shared.contracts import Requester, TicketAssignedV1, TicketCreatedV1, TicketStatusChangedV1
from opsdesk_shared.db_ledger import CommandTally
from opsdesk_shared.mongo import is_ferretdb

pytestmark = pytest.mark.integration

TAG = "GZ-LEDGER-1"


@pytest.fixture
def counted(counted_db: tuple[Any, CommandTally]) -> tuple[Any, CommandTally]:
    return counted_db  # the devstack plugin's: a fresh database and its client's command tally


async def test_a_tickets_events_in_the_asset_view_read_each_changed_document_twice_and_new_ones_never(counted: tuple[Any, CommandTally]) -> None:
    db, commands = counted
    links = MongoDocs(db["asset_links"])
    ferretdb = await is_ferretdb(db.client)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    created = TicketCreatedV1(ticket_id="t-1", number="INC-2026-000001", title="打印機卡紙", channel="hotline",
                              service_code="RS-REPAIR", requester=Requester(name="王小明"), asset_tag=TAG, reported_at=at)
    assigned = TicketAssignedV1(ticket_id="t-1", assignment_id="a-1", engineer_id="E-7", engineer_name="李華",
                                reason="nearest", assigned_at=at + timedelta(seconds=1))
    changed = TicketStatusChangedV1(ticket_id="t-1", number="INC-2026-000001", old_status="new", new_status="assigned",
                                    service_code="RS-REPAIR", priority="P3", by="dispatch", changed_at=at + timedelta(seconds=1))
    commands.clear()

    for event in (created, assigned, changed):
        assert await service_ops.on_ticket_event(event, links=links)

    # created: number (insert), ticket (insert), asset (read, insert); assigned: ticket (read, check+outbox read,
    # replace); changed: ticket and asset (each read, check+outbox read, replace). On FerretDB this was 12 finds.
    assert commands.names["find"] == 7, (ferretdb, dict(commands.names))
    assert commands.names["insert"] == 3 and commands.names["update"] == 3, dict(commands.names)
    ticket = await links.get("ticket:t-1")
    assert ticket is not None and ticket["engineer_id"] == "E-7" and ticket["state"]["status"] == "assigned"
    asset = await links.get(TAG)
    assert asset is not None and asset["tickets"]["t-1"]["status"] == "assigned"


async def test_a_ticket_without_an_asset_writes_no_state_after_its_creation(counted: tuple[Any, CommandTally]) -> None:
    db, commands = counted
    links = MongoDocs(db["asset_links"])
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    created = TicketCreatedV1(ticket_id="t-2", number="INC-2026-000002", title="密碼重置", channel="hotline",
                              service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=at)
    assigned = TicketAssignedV1(ticket_id="t-2", assignment_id="a-2", engineer_id="E-7", engineer_name="李華",
                                reason="nearest", assigned_at=at + timedelta(seconds=1))
    changed = TicketStatusChangedV1(ticket_id="t-2", number="INC-2026-000002", old_status="new", new_status="assigned",
                                    service_code="RS-REPAIR", priority="P3", by="dispatch", changed_at=at + timedelta(seconds=1))
    await is_ferretdb(db.client)
    commands.clear()

    assert await service_ops.on_ticket_event(created, links=links)
    assert await service_ops.on_ticket_event(assigned, links=links)
    assert not await service_ops.on_ticket_event(changed, links=links)

    # created: two inserts; assigned: read, check+outbox read, replace; changed: one read, nothing written (was a
    # read, a check read and a replace of a state only ticket.created reads).
    assert dict(commands.names) == {"insert": 2, "find": 3, "update": 1}
    ticket = await links.get("ticket:t-2")
    assert ticket is not None and ticket["engineer_id"] == "E-7" and ticket["number"] == "INC-2026-000002"


async def test_a_state_heard_before_ticket_created_still_reaches_the_asset_view(counted: tuple[Any, CommandTally]) -> None:
    db, _ = counted
    links = MongoDocs(db["asset_links"])
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    changed = TicketStatusChangedV1(ticket_id="t-3", number="INC-2026-000003", old_status="new", new_status="assigned",
                                    service_code="RS-REPAIR", priority="P3", by="dispatch", changed_at=at + timedelta(seconds=1))
    created = TicketCreatedV1(ticket_id="t-3", number="INC-2026-000003", title="打印機卡紙", channel="hotline",
                              service_code="RS-REPAIR", requester=Requester(name="王小明"), asset_tag=TAG, reported_at=at)

    await service_ops.on_ticket_event(changed, links=links)
    assert await service_ops.on_ticket_event(created, links=links)

    asset = await links.get(TAG)
    assert asset is not None and asset["tickets"]["t-3"]["status"] == "assigned"


async def test_with_the_mappings_remembered_a_tickets_events_read_only_the_asset_it_had_not_seen(counted: tuple[Any, CommandTally]) -> None:
    """main.py remembers asset_links (issue 17): a document this process wrote is not read again before it is
    rewritten; the write stays a compare-and-set on `_v`. The same three events as above: 7 finds before, now 1."""
    db, commands = counted
    links = MongoDocs(db["asset_links"], remember=100)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    created = TicketCreatedV1(ticket_id="t-4", number="INC-2026-000004", title="打印機卡紙", channel="hotline",
                              service_code="RS-REPAIR", requester=Requester(name="王小明"), asset_tag=TAG, reported_at=at)
    assigned = TicketAssignedV1(ticket_id="t-4", assignment_id="a-4", engineer_id="E-7", engineer_name="李華",
                                reason="nearest", assigned_at=at + timedelta(seconds=1))
    changed = TicketStatusChangedV1(ticket_id="t-4", number="INC-2026-000004", old_status="new", new_status="assigned",
                                    service_code="RS-REPAIR", priority="P3", by="dispatch", changed_at=at + timedelta(seconds=1))
    await is_ferretdb(db.client)
    commands.clear()

    for event in (created, assigned, changed):
        assert await service_ops.on_ticket_event(event, links=links)

    assert commands.names["find"] == 1, dict(commands.names)  # the asset's document, never seen before
    assert commands.names["insert"] == 3 and commands.names["update"] == 3, dict(commands.names)
    fresh = MongoDocs(db["asset_links"])  # what the database holds, read by a process that remembers nothing
    ticket = await fresh.get("ticket:t-4")
    assert ticket is not None and ticket["engineer_id"] == "E-7" and ticket["state"]["status"] == "assigned"
    asset = await fresh.get(TAG)
    assert asset is not None and asset["tickets"]["t-4"]["status"] == "assigned"


def test_a_collection_with_an_outbox_is_not_remembered(mongo_db: Any) -> None:
    class Nowhere:
        async def publish(self, envelope: Any) -> None:
            return None

    with pytest.raises(ValueError):
        MongoDocs(mongo_db["spares"], Nowhere(), remember=10)


async def test_the_mappings_of_tickets_created_at_once_are_inserted_together(counted: tuple[Any, CommandTally]) -> None:
    """A pulled batch's ticket.created handlers insert their two mappings each: one insert_many for those gathered
    (GroupInsert on the remembered collection), 2 inserts a ticket before."""
    import asyncio

    db, commands = counted
    links = MongoDocs(db["asset_links"], remember=100)
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    created = [
        TicketCreatedV1(ticket_id=f"t-b{i}", number=f"INC-2026-0001{i:02d}", title="密碼重置", channel="hotline",
                        service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=at)
        for i in range(16)
    ]
    await is_ferretdb(db.client)
    commands.clear()
    assert all(await asyncio.gather(*(service_ops.on_ticket_event(e, links=links) for e in created)))
    assert commands.names["insert"] <= 4, dict(commands.names)  # 32 before
    fresh = MongoDocs(db["asset_links"])
    assert all([await fresh.get(f"ticket:t-b{i}") for i in range(16)])
