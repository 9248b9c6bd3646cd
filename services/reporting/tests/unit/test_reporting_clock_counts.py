"""Reporting counts the clocks the SLA monitor ran, never clocks it infers from ticket events (one rule, one owner):
a ticket awaiting the agency's authorization has no dispatch clock, a declined one never gets one. With nothing
decided yet a clock has no rate (None, shown as "—"), never 100%."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from opsdesk_shared.contracts import (
    Envelope,
    EventData,
    Requester,
    SlaBreachedV1,
    SlaTimerStartedV1,
    SlaTimerStoppedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketCreatedV1,
)
from reporting import figures, service
from reporting.adapters.memory import MemoryReadModels

T0 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def wrap(event: EventData, subject: str, at: datetime) -> Envelope:
    return Envelope.wrap(event, producer="test", correlation_id="c", subject_id=subject, occurred_at=at)


def created(tid: str, n: int) -> Envelope:
    return wrap(TicketCreatedV1(ticket_id=tid, number=f"INC-2026-{n:06d}", title="更换硬盘", channel="hotline",
                                service_code="RS-ONSITE", requester=Requester(name="王小明"), reported_at=T0), tid, T0)


def warned(tid: str, timer: str, start: datetime) -> Envelope:
    return wrap(SlaWarningV1(ticket_id=tid, timer=timer, started_at=start, warning_at=start + 8 * MIN, due_at=start + 10 * MIN),
                tid, start + 8 * MIN)


async def rows(events: list[Envelope]) -> dict[str, dict[str, Any]]:
    models = MemoryReadModels()
    for envelope in events:
        await service.project(envelope, models=models)
    return {r["timer"]: r for r in figures.compute(await figures.gather(models, "2026-11"))["sla"]}


async def test_tickets_and_assignments_start_no_clock_of_their_own() -> None:
    """Four tickets (two awaiting authorization, one declined): reporting counts no clock the monitor did not run."""
    events = [created(f"t{n}", n) for n in range(1, 5)]
    events.append(wrap(TicketAssignedV1(ticket_id="t1", assignment_id="a1", engineer_id="eng-1", engineer_name="李工",
                                        reason="nearest", assigned_at=T0 + 5 * MIN), "t1", T0 + 5 * MIN))
    got = await rows(events)
    assert "dispatch" not in got and "confirmation" not in got and "response" not in got


async def test_the_dispatch_clocks_counted_are_the_ones_the_monitor_started() -> None:
    """Two authorized tickets' dispatch clocks (announced by their warnings), two tickets without one: 计时 2, and
    with nothing decided, no rate instead of 100%."""
    start = T0 + 30 * MIN  # the agency's authorization
    got = await rows([*(created(f"t{n}", n) for n in range(1, 5)), warned("t1", "dispatch", start), warned("t2", "dispatch", start)])
    dispatch = got["dispatch"]
    assert (dispatch["started"], dispatch["met"], dispatch["missed"], dispatch["warned"]) == (2, 0, 0, 2)
    assert dispatch["compliance"] is None


async def test_a_cycle_is_counted_once_whatever_announces_it() -> None:
    """Warning, breach and verdict of one cycle are one clock; a met cycle of another ticket is a second."""
    start = T0 + 30 * MIN
    late = SlaTimerStoppedV1(ticket_id="t1", timer="dispatch", outcome="breached", started_at=start, due_at=start + 10 * MIN,
                             stopped_at=start + 20 * MIN, breached_at=start + 10 * MIN)
    on_time = SlaTimerStoppedV1(ticket_id="t2", timer="dispatch", outcome="met", started_at=start, due_at=start + 10 * MIN,
                                stopped_at=start + 4 * MIN)
    got = await rows([
        created("t1", 1), created("t2", 2), warned("t1", "dispatch", start),
        wrap(SlaBreachedV1(ticket_id="t1", timer="dispatch", started_at=start, due_at=start + 10 * MIN,
                           breached_at=start + 10 * MIN), "t1", start + 10 * MIN),
        wrap(late, "t1", start + 20 * MIN), wrap(on_time, "t2", start + 4 * MIN),
    ])
    dispatch = got["dispatch"]
    assert (dispatch["started"], dispatch["met"], dispatch["missed"], dispatch["breached"]) == (2, 1, 1, 1)
    assert dispatch["compliance"] == 0.5


async def test_a_breach_without_its_verdict_yet_rates_zero() -> None:
    start = T0 + 30 * MIN
    got = await rows([created("t1", 1), wrap(SlaBreachedV1(ticket_id="t1", timer="dispatch", started_at=start,
                                                           due_at=start + 10 * MIN, breached_at=start + 10 * MIN), "t1", start)])
    assert (got["dispatch"]["started"], got["dispatch"]["compliance"]) == (1, 0.0)


def started(tid: str, timer: str, start: datetime, *, repair_id: str | None = None) -> Envelope:
    return wrap(SlaTimerStartedV1(ticket_id=tid, repair_id=repair_id, timer=timer, started_at=start, due_at=start + 10 * MIN),
                repair_id or tid, start)


async def test_a_running_clock_nobody_warned_about_is_counted_from_its_start() -> None:
    """sla.timer_started (issue 16): two dispatch clocks running, neither warned nor decided: 计时 2, no rate; the
    later warning and verdict of the first are the same cycle (still 2), a redelivered start counts nothing."""
    start = T0 + 30 * MIN
    first = started("t1", "dispatch", start)
    got = await rows([created("t1", 1), created("t2", 2), first, started("t2", "dispatch", start), first])
    assert (got["dispatch"]["started"], got["dispatch"]["warned"], got["dispatch"]["compliance"]) == (2, 0, None)

    verdict = SlaTimerStoppedV1(ticket_id="t1", timer="dispatch", outcome="met", started_at=start, due_at=start + 10 * MIN,
                                stopped_at=start + 9 * MIN)
    got = await rows([created("t1", 1), created("t2", 2), first, started("t2", "dispatch", start),
                      warned("t1", "dispatch", start), wrap(verdict, "t1", start + 9 * MIN)])
    assert (got["dispatch"]["started"], got["dispatch"]["met"], got["dispatch"]["warned"]) == (2, 1, 1)


async def test_a_repairs_start_projects_nothing_its_verdicts_count_it() -> None:
    models = MemoryReadModels()
    assert not await service.project(started("", "repair_progress", T0, repair_id="R-1"), models=models)
    assert await service.project(started("t1", "response", T0), models=models)
