"""Audits (discrepancy cases and corrections), baselines and drift, inspections, spares and loaners."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from assets import service, service_ops, stock, upkeep
from assets.domain import Asset, Location
from assets.main import Adapters
from assets.service import Ctx
from assets.upkeep import AuditClosed, Scope, Sighting
from opsdesk_shared.contracts.cmdb import (
    AuditClosedV1,
    InspectionFinding,
    InspectionRecordedV1,
    LoanerChangedV1,
    SpareIssuedV1,
)

ROOM = Location(building="主樓", floor="2", room="205")
ELSEWHERE = Location(building="主樓", floor="3", room="310")


def ctx(now: datetime, by: str = "auditor-1") -> Ctx:
    return Ctx(by=by, now=now, correlation_id="corr-test")


async def add(world: Adapters, now: datetime, tag: str, **kw: Any) -> Asset:
    fields: dict[str, Any] = {"tag": tag, "type": "desktop", "location": ROOM, "department": "財務科", "owner": "王小明", "status": "deployed"}
    fields.update(kw)
    return await service.register_asset(Asset(**fields), register=world.register, types=world.types, ctx=ctx(now),
                                        tag_pattern=world.tag_pattern, tag_prefix="GZ")


def seen(tag: str, now: datetime, location: Location = ROOM, owner: str | None = None) -> Sighting:
    return Sighting(tag=tag, location=location, owner=owner, seen_at=now, seen_by="auditor-1")


async def audited(world: Adapters, t0: datetime) -> upkeep.Audit:
    for tag in ("A-1", "A-2", "A-3", "A-4"):
        await add(world, t0, tag)
    await add(world, t0, "B-1", department="人事科", location=ELSEWHERE)
    audit = await service_ops.open_audit(name="2026 H1", scope=Scope(department="財務科"), register=world.register,
                                         audits=world.audits, ctx=ctx(t0))
    await service_ops.record_scan(audit.id, seen("A-1", t0), audits=world.audits)                       # fine
    await service_ops.record_scan(audit.id, seen("A-2", t0, location=ELSEWHERE), audits=world.audits)   # moved
    await service_ops.record_scan(audit.id, seen("A-3", t0, owner="李華"), audits=world.audits)         # new owner
    await service_ops.record_scan(audit.id, seen("ZZ-404", t0), audits=world.audits)                    # no such tag
    await service_ops.record_scan(audit.id, seen("B-1", t0), audits=world.audits)                       # other dept's, here
    return audit                                                                                         # A-4 missing


async def test_audit_expects_only_the_items_in_scope(world: Adapters, t0: datetime) -> None:
    audit = await audited(world, t0)
    assert sorted(audit.expected) == ["A-1", "A-2", "A-3", "A-4"]


async def test_closing_reports_each_kind_of_discrepancy(world: Adapters, t0: datetime) -> None:
    audit = await audited(world, t0)

    closed = await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))

    found = {(d.tag, d.kind, d.expected, d.found) for d in closed.discrepancies}
    assert found == {
        ("A-4", "missing", "主樓/2/205", None),
        ("ZZ-404", "unregistered", None, "主樓/2/205"),
        ("A-2", "wrong_location", "主樓/2/205", "主樓/3/310"),
        ("A-3", "wrong_owner", "王小明", "李華"),
        ("B-1", "wrong_location", "主樓/3/310", "主樓/2/205"),
    }
    (envelope,) = world.audits.outbox.published  # type: ignore[attr-defined]
    event = AuditClosedV1.model_validate(envelope.data)
    assert (event.expected, event.seen, len(event.discrepancies), event.scope) == (4, 5, 5, {"department": "財務科"})


async def test_a_clean_audit_reports_nothing(world: Adapters, t0: datetime) -> None:
    await add(world, t0, "C-1")
    audit = await service_ops.open_audit(name="clean", scope=Scope(), register=world.register, audits=world.audits, ctx=ctx(t0))
    await service_ops.record_scan(audit.id, seen("C-1", t0, owner="王小明"), audits=world.audits)

    closed = await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))

    assert closed.discrepancies == ()


async def test_rescanning_replaces_the_earlier_sighting(world: Adapters, t0: datetime) -> None:
    await add(world, t0, "C-2")
    audit = await service_ops.open_audit(name="x", scope=Scope(), register=world.register, audits=world.audits, ctx=ctx(t0))
    await service_ops.record_scan(audit.id, seen("C-2", t0, location=ELSEWHERE), audits=world.audits)
    await service_ops.record_scan(audit.id, seen("C-2", t0), audits=world.audits)

    closed = await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))

    assert closed.discrepancies == ()


async def test_a_closed_audit_takes_no_more_scans_and_closes_once(world: Adapters, t0: datetime) -> None:
    audit = await audited(world, t0)
    await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))

    with pytest.raises(AuditClosed):
        await service_ops.record_scan(audit.id, seen("A-4", t0), audits=world.audits)
    with pytest.raises(AuditClosed):
        await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))


async def test_agreed_corrections_become_new_versions_by_the_auditor(world: Adapters, t0: datetime) -> None:
    audit = await audited(world, t0)
    await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))
    later = t0 + timedelta(days=1)

    changed = await service_ops.apply_corrections(audit.id, [("A-2", "wrong_location"), ("A-3", "wrong_owner")],
                                                  register=world.register, audits=world.audits, types=world.types, ctx=ctx(later))

    assert [(a.tag, a.location, a.owner, a.version) for a in changed] == [("A-2", ELSEWHERE, "王小明", 2), ("A-3", ROOM, "李華", 2)]
    history = await service.asset_history("A-2", register=world.register)
    assert (history[-1].change, history[-1].by) == ("corrected", "auditor-1")
    assert (await service_ops.get_audit(audit.id, audits=world.audits)).corrected == ("A-2:wrong_location", "A-3:wrong_owner")


async def test_a_correction_the_audit_did_not_report_is_refused(world: Adapters, t0: datetime) -> None:
    audit = await audited(world, t0)
    await service_ops.close_audit(audit.id, register=world.register, audits=world.audits, ctx=ctx(t0))

    with pytest.raises(ValueError):
        await service_ops.apply_corrections(audit.id, [("A-1", "wrong_location")], register=world.register,
                                            audits=world.audits, types=world.types, ctx=ctx(t0))


async def test_baseline_drift_reports_changed_missing_and_new_items(world: Adapters, t0: datetime) -> None:
    for tag in ("D-1", "D-2", "D-3"):
        await add(world, t0, tag, attributes={"image_version": "W11-2026.03"})
    baseline = await service_ops.record_baseline(name="財務科標準鏡像", scope=Scope(department="財務科", type="desktop"),
                                                 fields=["attributes.image_version", "model"], register=world.register,
                                                 baselines=world.baselines, ctx=ctx(t0))
    await service.update_asset("D-1", {"attributes": {"image_version": "W10-2019"}}, register=world.register, types=world.types, ctx=ctx(t0))
    await service.update_asset("D-2", {"department": "人事科"}, register=world.register, types=world.types, ctx=ctx(t0))
    await add(world, t0, "D-4", attributes={"image_version": "W11-2026.03"})

    _, found = await service_ops.baseline_drift(baseline.id, register=world.register, baselines=world.baselines)

    assert [(d.tag, d.kind, d.field, d.baseline, d.current) for d in found] == [
        ("D-1", "changed", "attributes.image_version", "W11-2026.03", "W10-2019"),
        ("D-2", "missing", None, None, None),
        ("D-4", "new", None, None, None),
    ]
    assert len(baseline.entries) == 3


async def test_an_inspection_finding_that_needs_work_carries_a_ticket_request(world: Adapters, t0: datetime) -> None:
    await add(world, t0, "P-1", type="printer", model="HP M404dn")

    inspection = await service_ops.record_inspection(
        asset_tag="P-1", kind="quarterly_maintenance", performed_at=None, register=world.register,
        inspections=world.inspections, inspection_index=world.inspection_index, ctx=ctx(t0, by="eng-3"),
        findings=[InspectionFinding(text="除塵完成"), InspectionFinding(text="定影器異響", severity="needs_work")],
    )

    assert inspection.needs_work
    (envelope,) = world.inspections.outbox.published  # type: ignore[attr-defined]
    event = InspectionRecordedV1.model_validate(envelope.data)
    assert event.ticket is not None
    assert (event.ticket.asset_tag, event.ticket.service_code, event.ticket.department) == ("P-1", "PS-INSPECT", "財務科")
    assert "定影器異響" in event.ticket.description and "除塵完成" not in event.ticket.description
    assert "P-1" in event.ticket.title


async def test_an_inspection_without_problems_asks_for_no_ticket(world: Adapters, t0: datetime) -> None:
    await add(world, t0, "P-2")
    await service_ops.record_inspection(asset_tag="P-2", kind="monthly_inspection", performed_at=None, findings=[InspectionFinding(text="ok")],
                                        register=world.register, inspections=world.inspections,
                                        inspection_index=world.inspection_index, ctx=ctx(t0))
    (envelope,) = world.inspections.outbox.published  # type: ignore[attr-defined]
    assert envelope.data["needs_work"] is False and envelope.data["ticket"] is None


async def test_inspections_due_are_those_never_or_too_long_ago_inspected(world: Adapters, t0: datetime) -> None:
    for tag in ("I-1", "I-2", "I-3"):
        await add(world, t0, tag)
    common: dict[str, Any] = {"register": world.register, "inspections": world.inspections, "inspection_index": world.inspection_index}
    await service_ops.record_inspection(asset_tag="I-1", kind="monthly_inspection", findings=[], performed_at=t0 - timedelta(days=40), ctx=ctx(t0), **common)
    await service_ops.record_inspection(asset_tag="I-2", kind="monthly_inspection", findings=[], performed_at=t0 - timedelta(days=5), ctx=ctx(t0), **common)

    due = await service_ops.inspections_due(kind="monthly_inspection", scope=Scope(), register=world.register,
                                            inspection_index=world.inspection_index, now=t0)

    assert due == ["I-1", "I-3"]
    assert [i.asset_tag for i in await service_ops.inspections_of("I-2", inspections=world.inspections, inspection_index=world.inspection_index)] == ["I-2"]


async def test_spares_reserve_issue_against_a_ticket_and_replenish(world: Adapters, t0: datetime) -> None:
    await service_ops.set_stock(part_type="toner-HP26A", site="主樓", received=5, minimum=3, reorder_quantity=10, spares=world.spares)
    res = await service_ops.reserve_spare(part_type="toner-HP26A", site="主樓", quantity=2, ticket_id="tkt-1", spares=world.spares, ctx=ctx(t0))

    with pytest.raises(stock.NotEnoughStock):
        await service_ops.reserve_spare(part_type="toner-HP26A", site="主樓", quantity=4, ticket_id="tkt-2", spares=world.spares, ctx=ctx(t0))
    s, event = await service_ops.issue_spare(part_type="toner-HP26A", site="主樓", quantity=2, ticket_id="tkt-1",
                                             reservation_id=res.id, asset_tag="P-1", spares=world.spares, ctx=ctx(t0))

    assert (s.on_hand, s.reserved, s.available) == (3, 0, 3)
    (envelope,) = world.spares.outbox.published  # type: ignore[attr-defined]
    issued = SpareIssuedV1.model_validate(envelope.data)
    assert (issued.ticket_id, issued.quantity, issued.remaining, issued.below_minimum) == ("tkt-1", 2, 3, False)
    next_month = (t0 + timedelta(days=31)).strftime("%Y-%m")
    (line,) = await service_ops.replenishment_list(month=next_month, spares=world.spares)
    # minimum 3 plus the 2 used last month is 5; 3 available: order 2, but at least the reorder quantity of 10.
    assert (line.part_type, line.available, line.issued_last_month, line.order) == ("toner-HP26A", 3, 2, 10)


def test_issue_without_reservation_cannot_exceed_what_is_available(t0: datetime) -> None:
    s = stock.SpareStock(part_type="fan", site="副樓", on_hand=1)
    with pytest.raises(stock.NotEnoughStock):
        stock.issue(s, quantity=2, ticket_id="t", reservation_id=None, asset_tag=None, now=t0, by="x")


async def test_a_loaner_is_lent_while_in_stock_and_comes_back(world: Adapters, t0: datetime) -> None:
    await add(world, t0, "L-1", type="laptop", status="in_stock")
    loan = await service_ops.lend_loaner(loaner_tag="L-1", borrower="王小明", department="財務科", for_asset_tag="A-1",
                                         repair_id="rep-1", due_back=None, register=world.register, loans=world.loans, ctx=ctx(t0))

    assert (await world.register.get("L-1")).status == "on_loan"  # type: ignore[union-attr]
    with pytest.raises(stock.NotLendable):
        await service_ops.lend_loaner(loaner_tag="L-1", borrower="李華", department=None, for_asset_tag=None, repair_id=None,
                                      due_back=None, register=world.register, loans=world.loans, ctx=ctx(t0))
    assert [x.id for x in await service_ops.open_loans(loans=world.loans)] == [loan.id]

    returned = await service_ops.return_loaner(loan.id, register=world.register, loans=world.loans, ctx=ctx(t0 + timedelta(days=4)))

    assert returned.status == "returned" and (await world.register.get("L-1")).status == "in_stock"  # type: ignore[union-attr]
    events = [LoanerChangedV1.model_validate(e.data) for e in world.loans.outbox.published]  # type: ignore[attr-defined]
    assert [(e.action, e.loaner_tag, e.for_asset_tag) for e in events] == [("lent", "L-1", "A-1"), ("returned", "L-1", "A-1")]
    assert await service_ops.open_loans(loans=world.loans) == []
    with pytest.raises(stock.NotLendable):
        await service_ops.return_loaner(loan.id, register=world.register, loans=world.loans, ctx=ctx(t0))
