"""Single read-model rules: order-independence of repairs and statuses, the effects parked for a crash, key encoding."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import (
    Envelope,
    RepairUpdatedV1,
    Requester,
    SlaTimerStoppedV1,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketReassignedV1,
    TicketStatusChangedV1,
)
from reporting import figures, projection, service, sketch
from reporting.adapters.memory import MemoryReadModels
from reporting.service import LiveState

MON = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Guangzhou


def repair(status: str, at: datetime, n: int) -> Envelope:
    data = RepairUpdatedV1(repair_id="R-1", asset_tag="GZ-1", status=status, vendor="惠普", updated_at=at)  # type: ignore[arg-type]
    return Envelope.wrap(data, producer="assets", correlation_id="c", subject_id="R-1", occurred_at=at)


REPAIR_STEPS = [("open", MON - timedelta(hours=1)), ("sent_to_vendor", MON), ("in_progress", MON + timedelta(days=7)),
                ("returned", MON + timedelta(days=9))]
# The SLA monitor's verdicts on those steps (timer, started, stopped, outcome): 7 days without an update, then 2.
VERDICTS = [("repair_progress", MON, MON + timedelta(days=7), "breached"),
            ("repair_progress", MON + timedelta(days=7), MON + timedelta(days=9), "met"),
            ("repair_return", MON, MON + timedelta(days=9), "met")]


def verdict(timer: str, started: datetime, stopped: datetime, outcome: str) -> Envelope:
    data = SlaTimerStoppedV1(ticket_id="", repair_id="R-1", timer=timer, outcome=outcome, started_at=started,  # type: ignore[arg-type]
                             due_at=None, stopped_at=stopped)
    return Envelope.wrap(data, producer="sla-monitor", correlation_id="c", subject_id="R-1", occurred_at=stopped)


async def repair_figures(order: tuple[int, ...]) -> tuple[dict[str, Any], LiveState]:
    models, live = MemoryReadModels(), LiveState()
    events = [repair(s, at, n) for n, (s, at) in enumerate(REPAIR_STEPS)] + [verdict(*v) for v in VERDICTS]
    for i in order:
        await service.project(events[i], models=models, live=live)
    return figures.compute(await figures.gather(models, "2026-11"))["repairs"], live


async def test_a_repairs_figures_do_not_depend_on_the_order_its_updates_arrive_in() -> None:
    forward, live = await repair_figures(tuple(range(7)))
    vendor = forward["vendors"][0]
    assert (vendor["sent"], vendor["returned"], vendor["updates_ok"], vendor["updates_late"]) == (1, 1, 1, 1)  # the monitor's verdicts
    assert vendor["on_time"] == 1
    assert vendor["turnaround_median_s"] == pytest.approx(9 * 86400, rel=sketch.RELATIVE_ERROR)
    assert live.state["at_vendor"] == {"惠普": 0}
    orders = list(itertools.permutations(range(7)))
    for order in random.Random(13).sample(orders, 200):
        got, live = await repair_figures(order)
        assert got == forward, order
        assert live.state.get("at_vendor", {}).get("惠普", 0) == 0, order


async def test_a_repair_still_at_the_vendor_shows_in_the_live_state() -> None:
    _, live = await repair_figures((0, 1, 2, 4))
    assert live.state["at_vendor"] == {"惠普": 1}


def status(old: str, new: str, at: datetime) -> Envelope:
    data = TicketStatusChangedV1(ticket_id="t", number="INC-1", old_status=old, new_status=new, service_code="S", priority="P3",  # type: ignore[arg-type]
                                 by="desk", changed_at=at)
    return Envelope.wrap(data, producer="intake", correlation_id="c", subject_id="t")


async def test_the_latest_status_change_wins_even_when_it_arrives_first() -> None:
    models, live = MemoryReadModels(), LiveState()
    later, earlier = status("assigned", "in_progress", MON + timedelta(minutes=20)), status("new", "assigned", MON + timedelta(minutes=10))
    for envelope in (later, earlier):
        await service.project(envelope, models=models, live=live)
    assert live.state["status"] == {"in_progress": 1}
    assert (await models.entity("tickets", "t") or {})["status"] == "in_progress"


async def test_effects_parked_in_the_entity_are_applied_when_the_event_is_redelivered_after_a_crash() -> None:
    class CrashingModels(MemoryReadModels):
        crash = True

        async def apply(self, effects: projection.Effects) -> None:
            if self.crash:
                self.crash = False
                raise RuntimeError("process died after the entity write")
            await super().apply(effects)

    models = CrashingModels()
    envelope = status("new", "assigned", MON)
    with pytest.raises(RuntimeError):
        await service.project(envelope, models=models)
    assert await models.bucket(projection.STATE) is None

    await service.project(envelope, models=models)  # the redelivery
    await service.project(envelope, models=models)  # and another one: nothing more

    assert (await models.bucket(projection.STATE) or {})["status"] == {"assigned": 1}
    assert (await models.entity("tickets", "t") or {})["pending"] == {}


@pytest.mark.parametrize("value", ["", "a.b", "$x", "50%", "~", "網絡.故障$%~", None])
def test_label_values_survive_as_field_names(value: str | None) -> None:
    name = projection.enc(value)
    assert "." not in name and "$" not in name and name
    assert projection.dec(name) == ("" if value is None else value)


def test_sketch_quantiles_are_within_one_percent() -> None:
    values = [float(v) for v in range(1, 5001, 7)]
    hist: dict[str, float] = {}
    for v in values:
        key = str(sketch.bucket_of(v))
        hist[key] = hist.get(key, 0) + 1
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99):
        exact = ordered[max(1, -(-int(q * len(values) * 1000) // 1000)) - 1]
        assert sketch.quantile(hist, q) == pytest.approx(exact, rel=sketch.RELATIVE_ERROR + 1e-9)
    assert sketch.quantile({}, 0.5) is None


def _ticket_event(data: Any, at: datetime) -> Envelope:
    return Envelope.wrap(data, producer="intake", correlation_id="c", subject_id="T-1", occurred_at=at)


async def test_the_ticket_keeps_who_reported_it_and_who_holds_it_now_for_access_checks() -> None:
    """access.py decides forms and per-ticket reports from these fields; the latest assignment by time names the
    holder, whatever order the assignments arrive in."""
    models = MemoryReadModels()
    created = TicketCreatedV1(ticket_id="T-1", number="INC-1", title="t", channel="web", service_code="RS-REPAIR",
                              requester=Requester(name="王", department="人事科"), requester_id="u-wang", reported_at=MON)
    later = TicketReassignedV1(ticket_id="T-1", assignment_id="A-2", previous_engineer_id="eng-1", engineer_id="eng-2",
                               engineer_name="李", reason="delay", by="dispatch", reassigned_at=MON + timedelta(hours=2))
    earlier = TicketAssignedV1(ticket_id="T-1", assignment_id="A-1", engineer_id="eng-1", engineer_name="陳", reason="near",
                               assigned_at=MON + timedelta(hours=1))
    for data, at in ((created, MON), (later, MON + timedelta(hours=2)), (earlier, MON + timedelta(hours=1))):
        await service.project(_ticket_event(data, at), models=models)

    ticket = await models.entity("tickets", "T-1")
    assert ticket is not None
    assert (ticket["requester_id"], ticket["department"], ticket["engineer_id"]) == ("u-wang", "人事科", "eng-2")
    assert [a["engineer_id"] for a in ticket["assignments"]] == ["eng-2", "eng-1"]  # the history keeps both
