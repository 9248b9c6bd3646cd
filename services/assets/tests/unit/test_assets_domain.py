"""Repair records: which status changes are legal, and what opening one records."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from assets import domain
from assets.domain import Asset, IllegalTransition, Repair
from opsdesk_shared.contracts.repairs import RepairStage

# Every pair of the original five-state machine kept its meaning; the CMDB work added at_vendor, repaired and
# written_off (and in-house work may still go out to a vendor).
LEGAL: list[tuple[RepairStage, RepairStage]] = [
    ("open", "sent_to_vendor"),
    ("open", "in_progress"),
    ("open", "closed"),
    ("sent_to_vendor", "returned"),
    ("in_progress", "returned"),
    ("in_progress", "closed"),
    ("returned", "closed"),
    ("in_progress", "sent_to_vendor"),
    ("in_progress", "written_off"),
    ("sent_to_vendor", "at_vendor"),
    ("sent_to_vendor", "written_off"),
    ("at_vendor", "repaired"),
    ("at_vendor", "returned"),
    ("at_vendor", "written_off"),
    ("repaired", "returned"),
]
ALL: list[RepairStage] = ["open", "sent_to_vendor", "in_progress", "returned", "closed", "at_vendor", "repaired", "written_off"]
ILLEGAL = [(a, b) for a in ALL for b in ALL if (a, b) not in LEGAL]


def repair_in(status: RepairStage, asset: Asset, t0: datetime) -> Repair:
    repair, _ = domain.open_repair(asset=asset, vendor=None, ticket_id=None, note=None, now=t0)
    return repair.model_copy(update={"status": status})


def test_open_repair_is_open_with_one_history_entry(asset: Asset, t0: datetime) -> None:
    repair, event = domain.open_repair(asset=asset, vendor="Acme", ticket_id="tkt-1", note="screen flickers", now=t0)

    assert (repair.asset_tag, repair.status, repair.vendor, repair.ticket_id) == (asset.tag, "open", "Acme", "tkt-1")
    assert repair.opened_at == repair.updated_at == t0
    assert [(h.status, h.at, h.note) for h in repair.history] == [("open", t0, "screen flickers")]
    assert repair.version == 1
    assert (event.repair_id, event.asset_tag, event.status, event.vendor, event.note, event.ticket_id, event.updated_at) == (
        repair.id, asset.tag, "open", "Acme", "screen flickers", "tkt-1", t0
    )


def test_open_repair_uses_the_assets_vendor_when_none_given(asset: Asset, t0: datetime) -> None:
    repair, event = domain.open_repair(asset=asset, vendor=None, ticket_id=None, note=None, now=t0)

    assert asset.vendor is not None
    assert repair.vendor == event.vendor == asset.vendor


def test_open_repair_without_any_vendor_has_none(make_asset: object, t0: datetime) -> None:
    asset = make_asset(vendor=None)  # type: ignore[operator]

    repair, _ = domain.open_repair(asset=asset, vendor=None, ticket_id=None, note=None, now=t0)

    assert repair.vendor is None


def test_each_opened_repair_gets_its_own_id(asset: Asset, t0: datetime) -> None:
    ids = {domain.open_repair(asset=asset, vendor=None, ticket_id=None, note=None, now=t0)[0].id for _ in range(3)}

    assert len(ids) == 3


@pytest.mark.parametrize(("current", "wanted"), LEGAL)
def test_legal_transition_changes_status_and_appends_history(current: RepairStage, wanted: RepairStage, asset: Asset, t0: datetime) -> None:
    repair = repair_in(current, asset, t0)
    later = t0 + timedelta(hours=2)

    updated, event = domain.change_status(repair, status=wanted, note="step", now=later)

    assert updated.status == wanted and updated.updated_at == later
    assert updated.history == (*repair.history, domain.RepairChange(status=wanted, at=later, note="step"))
    assert (updated.id, updated.opened_at, updated.version) == (repair.id, repair.opened_at, repair.version)
    assert (event.repair_id, event.stage, event.note, event.updated_at) == (repair.id, wanted, "step", later)
    assert event.status == domain.STAGE_STATUS[wanted]  # what the SLA monitor reads: the original five values
    assert repair.status == current  # frozen: the original is untouched


@pytest.mark.parametrize(("current", "wanted"), ILLEGAL)
def test_illegal_transition_is_refused_listing_the_allowed_ones(current: RepairStage, wanted: RepairStage, asset: Asset, t0: datetime) -> None:
    repair = repair_in(current, asset, t0)

    with pytest.raises(IllegalTransition) as caught:
        domain.change_status(repair, status=wanted, note=None, now=t0)

    assert (caught.value.current, caught.value.wanted) == (current, wanted)
    assert caught.value.allowed == sorted(b for a, b in LEGAL if a == current)
    assert current in str(caught.value) and wanted in str(caught.value)


@pytest.mark.parametrize("terminal", ["closed", "written_off"])
def test_closed_or_written_off_repair_allows_nothing(terminal: RepairStage, asset: Asset, t0: datetime) -> None:
    with pytest.raises(IllegalTransition) as caught:
        domain.change_status(repair_in(terminal, asset, t0), status="open", note=None, now=t0)

    assert caught.value.allowed == []


def test_demo_register_tags_are_unique() -> None:
    tags = [a.tag for a in domain.DEMO_REGISTER]

    assert len(tags) == len(set(tags)) > 0


def test_progress_report_keeps_the_status_and_records_the_note() -> None:
    from datetime import UTC, datetime, timedelta

    import pytest

    from assets import domain as d

    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    asset = d.DEMO_REGISTER[0]
    repair, _ = d.open_repair(asset=asset, vendor=None, ticket_id=None, note=None, now=now)
    with pytest.raises(d.NotAtVendor):
        d.report_progress(repair, note="waiting for parts", now=now)
    sent, _ = d.change_status(repair, status="sent_to_vendor", note=None, now=now)
    later = now + timedelta(days=1)
    updated, event = d.report_progress(sent, note="board replaced", now=later)
    assert (updated.status, updated.updated_at, updated.history[-1].note) == ("sent_to_vendor", later, "board replaced")
    assert (event.status, event.note, event.updated_at) == ("sent_to_vendor", "board replaced", later)
