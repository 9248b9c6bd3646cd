"""Open tickets per asset, from ticket events, and the overview the gateway shows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assets import service, service_ops
from assets.domain import Asset, Location
from assets.main import Adapters
from opsdesk_shared.contracts import Requester, TicketClosedV1, TicketCreatedV1, TicketResolvedV1, TicketStatusChangedV1


def created(ticket_id: str, tag: str | None, at: datetime) -> TicketCreatedV1:
    return TicketCreatedV1(ticket_id=ticket_id, number=f"INC-{ticket_id}", title="打印機卡紙", channel="hotline", service_code="PS-01",
                           priority="P3", requester=Requester(name="王小明"), asset_tag=tag, reported_at=at)


def status(ticket_id: str, new: str, at: datetime) -> TicketStatusChangedV1:
    return TicketStatusChangedV1(ticket_id=ticket_id, number="n", old_status="new", new_status=new, service_code="PS-01",  # type: ignore[arg-type]
                                 priority="P2", by="agent", changed_at=at)


async def setup(world: Adapters, t0: datetime) -> None:
    await world.register.add(*_v1(t0), [])


def _v1(t0: datetime) -> tuple[Asset, object]:
    from assets import domain

    stored, record, _ = domain.new_version(None, Asset(tag="GZ-P-1", type="printer", location=Location(building="主樓")), by="s", at=t0)
    return stored, record


async def overview(world: Adapters) -> dict[str, object]:
    found = await service_ops.asset_overview("GZ-P-1", register=world.register, links=world.links, repairs=world.repairs)
    assert found is not None
    return found


async def test_open_tickets_follow_created_status_changed_resolved_and_closed(world: Adapters, t0: datetime) -> None:
    await setup(world, t0)
    await service_ops.on_ticket_event(created("t1", "GZ-P-1", t0), links=world.links)
    await service_ops.on_ticket_event(created("t2", "GZ-P-1", t0 + timedelta(minutes=1)), links=world.links)
    await service_ops.on_ticket_event(created("t3", "GZ-OTHER", t0), links=world.links)
    await service_ops.on_ticket_event(status("t1", "in_progress", t0 + timedelta(minutes=5)), links=world.links)

    found = await overview(world)
    assert [(t["ticket_id"], t["status"], t["priority"]) for t in found["open_tickets"]] == [("t1", "in_progress", "P2"), ("t2", "new", "P3")]  # type: ignore[attr-defined]

    await service_ops.on_ticket_event(TicketResolvedV1(
        ticket_id="t1", number="n", service_code="PS-01", priority="P2", channel="hotline", resolved_at_desk=False, resolution="換硒鼓",
        reported_at=t0, resolved_at=t0 + timedelta(hours=1), by="eng"), links=world.links)
    await service_ops.on_ticket_event(TicketClosedV1(ticket_id="t2", number="n", service_code="PS-01", closed_at=t0 + timedelta(hours=2), by="x"),
                                      links=world.links)

    assert (await overview(world))["open_tickets"] == []


async def test_a_redelivered_or_late_event_does_not_reopen_a_ticket(world: Adapters, t0: datetime) -> None:
    await setup(world, t0)
    await service_ops.on_ticket_event(created("t1", "GZ-P-1", t0), links=world.links)
    await service_ops.on_ticket_event(status("t1", "resolved", t0 + timedelta(hours=1)), links=world.links)
    await service_ops.on_ticket_event(created("t1", "GZ-P-1", t0), links=world.links)  # redelivered
    await service_ops.on_ticket_event(status("t1", "in_progress", t0 + timedelta(minutes=30)), links=world.links)  # late

    assert (await overview(world))["open_tickets"] == []


async def test_a_state_heard_before_ticket_created_is_listed_when_the_ticket_arrives(world: Adapters, t0: datetime) -> None:
    # One consumer per subject: ticket.status_changed may be handled before its ticket.created (issue 14 follow-up).
    await setup(world, t0)
    await service_ops.on_ticket_event(status("t1", "assigned", t0 + timedelta(seconds=5)), links=world.links)
    await service_ops.on_ticket_event(created("t1", "GZ-P-1", t0), links=world.links)

    [ticket] = (await overview(world))["open_tickets"]  # type: ignore[misc]
    assert (ticket["status"], ticket["priority"], ticket["number"]) == ("assigned", "P2", "INC-t1")


async def test_times_in_other_offsets_compare_as_instants(world: Adapters, t0: datetime) -> None:
    await setup(world, t0)
    east = timezone(timedelta(hours=8))
    await service_ops.on_ticket_event(created("t1", "GZ-P-1", t0.astimezone(east)), links=world.links)  # 17:00+08:00
    await service_ops.on_ticket_event(status("t1", "in_progress", t0 + timedelta(minutes=1)), links=world.links)  # 09:01Z

    [ticket] = (await overview(world))["open_tickets"]  # type: ignore[misc]
    assert ticket["status"] == "in_progress"


async def test_tickets_without_an_asset_are_known_by_id_and_number_but_on_no_asset(world: Adapters, t0: datetime) -> None:
    # Known (spare issues must name a ticket that exists), though no asset lists it.
    assert await service_ops.on_ticket_event(created("t9", None, t0), links=world.links) is True
    assert await service_ops.known_ticket("t9", links=world.links) == "t9"
    assert await service_ops.on_ticket_event(status("t-unknown", "assigned", t0), links=world.links) is False
    assert {k for k in await world.links.keys() if not k.startswith(("ticket:", "number:"))} == set()


async def test_overview_lists_the_assets_repairs(world: Adapters, t0: datetime) -> None:
    await setup(world, t0)
    repair = await service.open_repair(asset_tag="GZ-P-1", vendor=None, ticket_id="t1", note="卡紙", register=world.register,
                                       repairs=world.repairs, outbox=world.outbox, now=t0, correlation_id="c", links=world.links)

    found = await overview(world)

    assert [r["id"] for r in found["repairs"]] == [repair.id]  # type: ignore[attr-defined]
    assert found["asset"]["status"] == "in_repair"  # type: ignore[index]
