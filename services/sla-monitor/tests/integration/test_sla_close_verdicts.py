"""Compliance is not inflated: a clock the ticket's cancellation stopped, or a desk resolution made unnecessary, ends
cancelled (counted neither met nor breached); a clock already overdue stays breached. On both stores."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sla_monitor import domain, service
from sla_monitor.adapters.memory import MemoryOutbox

MINUTE = timedelta(minutes=1)


async def _start(store: Any, name: str, ticket_id: str, at: datetime, minutes: int) -> None:
    timer = domain.Timer(ticket_id=ticket_id, name=name, status="running", started_at=at, due_at=at + minutes * MINUTE)
    assert await service.start_timer(timer, store=store)


def _verdicts(outbox: MemoryOutbox) -> dict[str, str]:
    return {e.data["timer"]: e.data["outcome"] for e in outbox.published if e.data.get("outcome")}


async def test_cancelling_a_held_ticket_cancels_its_response_and_dispatch_clocks(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    await _start(timer_store, "response", "held-1", t0, 60)
    await _start(timer_store, "dispatch", "held-1", t0, 10)

    await service.close_ticket_timers("held-1", at=t0 + 5 * MINUTE, store=timer_store, outbox=outbox, new_status="cancelled")

    assert _verdicts(outbox) == {"response": "cancelled", "dispatch": "cancelled"}
    views = {n: domain.view(t).state for n in ("response", "dispatch") if (t := await timer_store.get(f"held-1:{n}"))}
    assert views == {"response": "cancelled", "dispatch": "cancelled"}


async def test_cancelling_after_a_clock_ran_out_keeps_that_one_breached(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    await _start(timer_store, "response", "held-2", t0, 60)
    await _start(timer_store, "dispatch", "held-2", t0, 10)

    await service.close_ticket_timers("held-2", at=t0 + 30 * MINUTE, store=timer_store, outbox=outbox, new_status="cancelled")

    assert _verdicts(outbox) == {"response": "cancelled", "dispatch": "breached"}


async def test_a_desk_resolution_meets_response_and_guidance_and_cancels_dispatch(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    await _start(timer_store, "response", "desk-1", t0, 60)
    await _start(timer_store, "dispatch", "desk-1", t0, 10)
    await _start(timer_store, "remote_guidance", "desk-1", t0 + MINUTE, 5)

    await service.close_ticket_timers("desk-1", at=t0 + 4 * MINUTE, store=timer_store, outbox=outbox, new_status="resolved")

    assert _verdicts(outbox) == {"response": "met", "dispatch": "cancelled", "remote_guidance": "met"}


async def test_a_cancellation_overtaking_ticket_created_cancels_the_late_clocks(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    await service.close_ticket_timers("early-1", at=t0 + 2 * MINUTE, store=timer_store, outbox=outbox, new_status="cancelled")

    await _start_late(timer_store, "response", "early-1", t0, outbox)

    timer = await timer_store.get("early-1:response")
    assert timer is not None and timer.status == "cancelled"
    assert _verdicts(outbox) == {"response": "cancelled"}


async def _start_late(store: Any, name: str, ticket_id: str, at: datetime, outbox: MemoryOutbox) -> None:
    timer = domain.Timer(ticket_id=ticket_id, name=name, status="running", started_at=at, due_at=at + 60 * MINUTE)
    assert await service.start_timer(timer, store=store, outbox=outbox) is False


async def test_sending_on_stops_the_guidance_clock_met_and_a_late_send_on_is_breached(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    await _start(timer_store, "remote_guidance", "send-1", t0, 5)
    await _start(timer_store, "remote_guidance", "send-2", t0, 5)

    assert await service.stop_if_running("remote_guidance", ticket_id="send-1", at=t0 + 3 * MINUTE, store=timer_store, outbox=outbox)
    assert not await service.stop_if_running("remote_guidance", ticket_id="send-2", at=t0 + 5 * MINUTE, store=timer_store, outbox=outbox)

    stopped = [(e.subject_id, e.data["outcome"]) for e in outbox.published if e.data.get("outcome")]
    assert stopped == [("send-1", "met"), ("send-2", "breached")]
