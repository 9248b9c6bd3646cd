"""SLA use cases: start on the start event, stop on the stop event, breach when a sweep finds time has run out."""

from __future__ import annotations

from datetime import datetime, timedelta

from opsdesk_shared.contracts import Envelope

from . import domain
from .ports import EventOutbox, TimerStore

PRODUCER = "sla-monitor"
RESPONSE = "response"


async def start_response_timer(
    *, ticket_id: str, reported_at: datetime, duration: timedelta, store: TimerStore, correlation_id: str | None = None
) -> bool:
    """Idempotent: a redelivered ticket.created, or one arriving after the stop, changes nothing."""
    timer = domain.start_timer(
        ticket_id=ticket_id, name=RESPONSE, started_at=reported_at, duration=duration, correlation_id=correlation_id
    )
    if await store.add(timer):
        return True
    existing = await store.get(timer.key)
    if existing is not None and domain.late_start_after_early_stop(existing, timer):
        return await store.replace_early_stop(timer)
    return False


async def stop_response_timer(*, ticket_id: str, at: datetime, store: TimerStore) -> bool:
    key = domain.timer_key(ticket_id, RESPONSE)
    timer = await store.get(key)
    if timer is None:
        # The start has not arrived yet: remember the stop so the late start changes nothing (or breaches if late).
        await store.add(domain.stopped_before_start(ticket_id=ticket_id, name=RESPONSE, at=at))
        return False
    if not domain.stops_in_time(timer, at=at):
        return False
    return await store.stop(key, at=at)


async def sweep_breaches(*, now: datetime, store: TimerStore, outbox: EventOutbox, limit: int = 500) -> int:
    """Breach every running timer past its due time; returns how many breached."""
    breached = 0
    for timer in await store.due(now, limit=limit):
        decision = domain.breach(timer, now=now)
        if decision is None:
            continue
        updated, event = decision
        envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=timer.correlation_id or timer.ticket_id, subject_id=timer.ticket_id, occurred_at=now)
        if await store.mark_breached(updated, [envelope]):
            await outbox.deliver(updated.key, [envelope])
            breached += 1
    return breached
