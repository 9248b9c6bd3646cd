"""One rule, one owner: the repair summary counts the SLA monitor's verdicts, so both give the same answer.

The monitor's own use case produces the events here (its calendar, its rules); reporting only projects them. The two
worked examples of issue 13 item 14: progress updates on Monday 10:00 and Thursday 17:00 are on time; a device sent
on Monday 2026-11-23 is due Friday 12-04 17:30 (back on Saturday 12-05 is late, though before the second Sunday).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from opsdesk_shared.contracts import Envelope, RepairUpdatedV1
from reporting import figures, service
from reporting.adapters.memory import MemoryReadModels
from reporting.service import LiveState
from sla_monitor import calendar_service
from sla_monitor import service as sla
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def repair(status: str, at: datetime, *, note: str | None = None) -> RepairUpdatedV1:
    return RepairUpdatedV1(repair_id="R-7", asset_tag="GZ-7", status=status, vendor="联想", note=note, updated_at=at)  # type: ignore[arg-type]


async def through_both(steps: list[RepairUpdatedV1]) -> tuple[list[Envelope], dict[str, Any]]:
    """Each repair update goes to the monitor (which decides) and, with what the monitor announced, to reporting."""
    book = await calendar_service.load_book(MemoryCalendarStore())
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    events: list[Envelope] = []
    for step in steps:
        events.append(Envelope.wrap(step, producer="assets", correlation_id="c", subject_id="R-7", occurred_at=step.updated_at))
        await sla.on_repair_updated(step, book=book, store=store, outbox=outbox)
    verdicts = [e for e in outbox.published if e.type == "sla.timer_stopped"]
    models, live = MemoryReadModels(), LiveState()
    for envelope in [*reversed(verdicts), *events]:  # verdicts first: arrival order must not matter
        await service.project(envelope, models=models, live=live)
    [vendor] = figures.compute(await figures.gather(models, "2026-11") if steps[-1].updated_at.month == 11 else
                               await figures.gather(models, "2026-12"))["repairs"]["vendors"]
    return verdicts, vendor


async def test_updates_on_monday_10_and_thursday_17_are_on_time_for_the_monitor_and_the_report() -> None:
    verdicts, vendor = await through_both([
        repair("sent_to_vendor", local(2026, 11, 23, 10, 0)),
        repair("sent_to_vendor", local(2026, 11, 26, 17, 0), note="主板已更换"),
    ])
    assert [(v.data["timer"], v.data["outcome"]) for v in verdicts] == [("repair_progress", "met")]
    assert (vendor["updates_ok"], vendor["updates_late"], vendor["update_compliance"]) == (1, 0, 1.0)


async def test_a_device_sent_on_2026_11_23_back_on_saturday_12_05_is_late_for_the_monitor_and_the_report() -> None:
    verdicts, vendor = await through_both([
        repair("sent_to_vendor", local(2026, 11, 23, 10, 0)),
        repair("returned", local(2026, 12, 5, 10, 0)),
    ])
    returned = next(v.data for v in verdicts if v.data["timer"] == "repair_return")
    assert returned["outcome"] == "breached"
    assert datetime.fromisoformat(returned["due_at"].replace("Z", "+00:00")) == local(2026, 12, 4, 17, 30)
    assert (vendor["returned"], vendor["on_time"], vendor["late"]) == (1, 0, 1)


async def test_back_on_friday_12_04_at_17_00_is_on_time_for_both() -> None:
    _, vendor = await through_both([
        repair("sent_to_vendor", local(2026, 11, 23, 10, 0)),
        repair("sent_to_vendor", local(2026, 11, 26, 17, 0), note="配件已到"),
        repair("sent_to_vendor", local(2026, 12, 1, 17, 0), note="维修中"),
        repair("returned", local(2026, 12, 4, 17, 0)),
    ])
    assert (vendor["on_time"], vendor["late"]) == (1, 0)
