"""SLA use cases: start on the start event, stop on the stop event, warn and breach when a sweep finds time used.

The starts and stops run inside JetStream handlers and store their events with the timer (the outbox) without a
pending marker (issue 17; adapters/mongo.py says why none is needed): so every path here that finds its effect
already stored relays what is still stored with it (`outbox.relay_now`), and a publish that fails raises
(`EventsNotSent`), so the message is delivered again instead of acknowledged with its events unsent.
A stop that finds events still stored in its timer (a write whose publish failed) sends them before its verdict
and clears both with one `$pullAll`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta

from opsdesk_shared.contracts import (
    Envelope,
    EventData,
    RepairUpdatedV1,
    SlaBreachedV1,
    SlaTimerStoppedV1,
    SlaWarningV1,
)
from opsdesk_shared.contracts.calendars import TimerView
from opsdesk_shared.outbox import deliver_from_handler

from . import domain, metrics
from .calendar_book import CalendarBook
from .domain import Timer, TimerPolicy
from .ports import EventOutbox, HolderStore, TimerStore

PRODUCER = "sla-monitor"
RESPONSE = "response"


class UnknownCalendar(LookupError):
    """A policy names a calendar nobody defined."""


async def _relay_stored(key: str, outbox: EventOutbox | None) -> None:
    """A redelivery found its effect stored: send whatever its first delivery left unsent (one read by `_id`)."""
    if outbox is not None:
        await outbox.relay_now(key)


async def _add(timer: Timer, *, store: TimerStore, outbox: EventOutbox | None) -> bool:
    """Store a new cycle with its sla.timer_started in the same insert (the outbox), then relay it."""
    if timer.started_at is None:
        return await store.add(timer)  # a stop-before-start marker: nothing started
    started = [domain.started_event(timer)]
    envelopes = [envelope_for(started[0], timer, timer.started_at)]
    if not await store.add(timer, events=envelopes):
        return False
    # Cleared after its publish like every event: an outbox holds only events not yet sent, which the fault
    # campaign's check (and an operator) reads as "unsent". (Leaving it for the stop to clear saved a command a start,
    # but a clock never stopped kept a sent event in its outbox for good.)
    await _announce(timer.key, started, envelopes, outbox=outbox)
    return True


async def start_timer(timer: Timer, *, store: TimerStore, outbox: EventOutbox | None = None) -> bool:
    """Idempotent: a redelivered start, or one arriving after the stop, changes nothing (unless the stop was late).
    A new cycle is announced (sla.timer_started) in the same write that stores it."""
    if await _add(timer, store=store, outbox=outbox):
        return True
    existing = await store.get(timer.key)
    if existing is None:
        return False
    if existing.started_at is not None:
        await _relay_stored(timer.key, outbox)  # a redelivered start: its sla.timer_started may be stored unsent
        return False
    return await _settle_early_stop(existing, timer, store=store, outbox=outbox)


async def _settle_early_stop(existing: Timer, timer: Timer, *, store: TimerStore, outbox: EventOutbox | None) -> bool:
    """The stop overtook this start: the start reveals the due time, so the cycle is decided now (met with the times
    it was met against, or breached when the stop came after the due time) and its verdict announced."""
    assert existing.stopped_at is not None
    decision = domain.stop(timer, at=existing.stopped_at, cancel=existing.stop_cancels)
    if decision is None:
        return False
    done, events = decision
    await _write(done, expect=existing, events=events, at=existing.stopped_at, store=store, outbox=outbox, started=True)
    return False


async def _write(
    timer: Timer, *, expect: Timer, events: Sequence[EventData], at: datetime, store: TimerStore, outbox: EventOutbox | None,
    cycle: Timer | None = None, started: bool = False,
) -> bool:
    """Store the decision with its events in one write, then relay them. Without an outbox here (some tests) the
    events stay stored in the timer's document, marked, for the relay's sweep. `cycle` is the timer the events are
    about when it differs from what is written (a cycle ended by the start of the next). `started`: `timer` is a
    cycle starting with this write, announced (sla.timer_started) after the events of the one it ends."""
    envelopes = [envelope_for(event, cycle or timer, at) for event in events]
    if started and timer.started_at is not None:
        opened = domain.started_event(timer)
        events = [*events, opened]
        envelopes.append(envelope_for(opened, timer, timer.started_at))
    if not await store.replace(timer, expect=expect, events=envelopes):
        return False
    await _announce(timer.key, events, envelopes, outbox=outbox)
    return True


async def _announce(
    key: str, events: Sequence[EventData], envelopes: Sequence[Envelope], *, outbox: EventOutbox | None,
) -> None:
    """Relay the events stored with the timer `key` (a handler's write, no pending marker), and count the verdicts
    (`events`: the ones this write decided). A failed publish raises EventsNotSent: the message comes again and its
    redelivery relays them."""
    if outbox is not None:
        await deliver_from_handler(outbox, key, envelopes)
    for event in events:
        if isinstance(event, SlaTimerStoppedV1):
            metrics.outcomes.labels(event.timer, event.outcome).inc()
        elif isinstance(event, SlaBreachedV1):
            metrics.breaches.labels(event.timer).inc()


async def start_policy_timer(
    policy: TimerPolicy, *, ticket_id: str, started_at: datetime, book: CalendarBook, store: TimerStore,
    correlation_id: str | None = None, outbox: EventOutbox | None = None,
) -> bool:
    cal = book.get(policy.calendar)
    if cal is None:
        raise UnknownCalendar(f"policy {policy.name} names calendar {policy.calendar!r}, which is not defined")
    timer = domain.plan_timer(policy, ticket_id=ticket_id, started_at=started_at, cal=cal, correlation_id=correlation_id)
    return await start_timer(timer, store=store, outbox=outbox)


async def start_new_cycle(
    policy: TimerPolicy, *, ticket_id: str, started_at: datetime, book: CalendarBook, store: TimerStore,
    correlation_id: str | None = None, outbox: EventOutbox | None = None,
) -> bool:
    """Start the policy's clock, or start it over when an earlier cycle exists (a new engineer must be confirmed):
    an earlier cycle still running ends now, cancelled (its engineer was withdrawn) or breached if it was overdue."""
    cal = book.get(policy.calendar)
    if cal is None:
        raise UnknownCalendar(f"policy {policy.name} names calendar {policy.calendar!r}, which is not defined")
    timer = domain.plan_timer(policy, ticket_id=ticket_id, started_at=started_at, cal=cal, correlation_id=correlation_id)
    if await _add(timer, store=store, outbox=outbox):  # the common case first: no earlier cycle, one write
        return True
    return await _next_cycle(timer, cancel=True, store=store, outbox=outbox)


async def _next_cycle(timer: Timer, *, cancel: bool, store: TimerStore, outbox: EventOutbox | None) -> bool:
    """Replace the stored cycle with `timer`, announcing how the stored one ended (if it had not stopped yet)."""
    assert timer.started_at is not None
    for _ in range(3):  # the stored cycle may change under us (its stop arriving on another consumer)
        existing = await store.get(timer.key)
        if existing is None:
            return await _add(timer, store=store, outbox=outbox)
        if existing.started_at is None:
            return await _settle_early_stop(existing, timer, store=store, outbox=outbox)  # a stop overtook this start
        if timer.started_at <= existing.started_at:
            await _relay_stored(timer.key, outbox)  # a redelivery of the start that made this cycle (or of an older one)
            return False
        ended = domain.stop(existing, at=timer.started_at, cancel=cancel)
        if await _write(timer, expect=existing, events=ended[1] if ended else [], at=timer.started_at, store=store,
                        outbox=outbox, cycle=ended[0] if ended else existing, started=True):
            return True
    return False


async def start_response_timer(
    *, ticket_id: str, reported_at: datetime, duration: timedelta, store: TimerStore, correlation_id: str | None = None
) -> bool:
    """A wall-clock response timer (no calendar): what tests and the 24x7 case need."""
    timer = domain.start_timer(
        ticket_id=ticket_id, name=RESPONSE, started_at=reported_at, duration=duration, correlation_id=correlation_id
    )
    return await start_timer(timer, store=store)


async def stop_timer(
    name: str, *, ticket_id: str, at: datetime, store: TimerStore, outbox: EventOutbox | None = None, cancel: bool = False,
) -> bool:
    """The clock's own stop event: decide the cycle (met, or breached if late) and announce it. True when it was
    stopped in time. A stop before its start is remembered, so the late start is decided against it."""
    return await _stop(name, ticket_id=ticket_id, at=at, store=store, outbox=outbox, cancel=cancel, remember=True)


async def _stop(
    name: str, *, ticket_id: str, at: datetime, store: TimerStore, outbox: EventOutbox | None, cancel: bool, remember: bool,
) -> bool:
    """Decide and write the stop in one read and one write of the timer (store.settle). With `remember`, a stop
    that finds no timer is stored as a stop-before-start marker; without, only a started, unstopped clock stops."""
    key = domain.timer_key(ticket_id, name)
    decided: list[tuple[Sequence[EventData], list[Envelope]]] = []

    def decide(timer: Timer | None) -> tuple[Timer, Sequence[Envelope]] | None:
        decided.clear()
        if timer is None or (not remember and (timer.started_at is None or timer.stopped_at is not None)):
            return None
        decision = domain.stop(timer, at=at, cancel=cancel)
        if decision is None:
            return None  # stopped already, or a stop-before-start marker
        done, events = decision
        envelopes = [envelope_for(event, done, at) for event in events]
        decided.append((events, envelopes))  # the very envelopes stored: the relay's clean-up pulls them by equality
        return done, envelopes

    # A few times at most: the start and the stop come through different consumers and can race each other.
    for _ in range(3):
        current, written, stored = await store.settle(key, decide)
        if stored and not (decided and written is not None):
            # Nothing to write, but the timer holds events: a write left them unsent (this stop's first delivery
            # died before its publish, or its publish failed), and this redelivery sends them now.
            await _relay_stored(key, outbox)
        if current is None:
            if not remember:
                return False
            # The start has not arrived yet: remember the stop so the late start is decided against it.
            if await store.add(domain.stopped_before_start(ticket_id=ticket_id, name=name, at=at, cancel=cancel)):
                return False
            continue  # the start got in between: stop what it started
        if not decided:
            return False
        if written is None:
            continue  # changed meanwhile (MongoDB): decide again on what is stored now
        events, envelopes = decided[0]
        # What the timer held (events a write left unsent) goes out before the verdict, and one clean-up clears both.
        await _announce(key, events, [*stored, *envelopes], outbox=outbox)
        return written.status in ("stopped", "cancelled")
    return False


async def stop_response_timer(
    *, ticket_id: str, at: datetime, store: TimerStore, outbox: EventOutbox | None = None
) -> bool:
    return await stop_timer(RESPONSE, ticket_id=ticket_id, at=at, store=store, outbox=outbox)


# Warnings and breaches get ids derived from the timer: two monitor replicas that both detect one breach publish
# the same event id, which JetStream drops as a duplicate and consumers ignore.
EVENT_NAMESPACE = uuid.UUID("a4f1c2e0-7b3d-4c59-8e21-5d9b0f6a3c77")


def envelope_for(event: EventData, timer: Timer, now: datetime) -> Envelope:
    return Envelope.wrap(
        event, producer=PRODUCER, correlation_id=timer.correlation_id or timer.subject, subject_id=timer.subject,
        occurred_at=now, event_id=uuid.uuid5(EVENT_NAMESPACE, f"{timer.key}:{timer.started_at}:{event.event_type}"),
    )


Decide = Callable[[Timer], "tuple[Timer, SlaBreachedV1 | SlaWarningV1] | None"]
Mark = Callable[[Timer, Sequence[Envelope]], Awaitable[bool]]


async def _sweep(timers: list[Timer], decide: Decide, mark: Mark, *, now: datetime, outbox: EventOutbox) -> int:
    """Record each decision with its event in one write, then relay it; a timer changed meanwhile is skipped."""
    done = 0
    for timer in timers:
        decision = decide(timer)
        if decision is None:
            continue
        updated, event = decision
        envelope = envelope_for(event, timer, now)
        if await mark(updated, [envelope]):
            (metrics.breaches if isinstance(event, SlaBreachedV1) else metrics.warnings).labels(event.timer).inc()
            await outbox.deliver(updated.key, [envelope])
            done += 1
    return done


async def sweep_breaches(*, now: datetime, store: TimerStore, outbox: EventOutbox, limit: int = 500) -> int:
    """Breach every running timer past its due time; returns how many breached."""
    due = await store.due(now, limit=limit)
    return await _sweep(due, lambda t: domain.breach(t, now=now), store.mark_breached, now=now, outbox=outbox)


async def sweep_warnings(*, now: datetime, store: TimerStore, outbox: EventOutbox, limit: int = 500) -> int:
    """Warn once for every running timer past its warning time; returns how many warned."""
    due = await store.warnings_due(now, limit=limit)
    return await _sweep(due, lambda t: domain.warn(t, now=now), store.mark_warned, now=now, outbox=outbox)


async def ticket_timers(ticket_id: str, *, names: Iterable[str], store: TimerStore) -> list[TimerView]:
    """The ticket's timers, fetched by key (`_id`): no query the database would answer by scanning."""
    return [domain.view(t) for t in await timers_of_tickets([ticket_id], names=names, store=store)]


async def timers_of_tickets(ticket_ids: Iterable[str], *, names: Iterable[str], store: TimerStore, at_once: int = 32) -> list[Timer]:
    """Every clock of these tickets, each read by key (`_id`, the only look-up FerretDB answers from an index; an
    `$in` on `_id` is a scan there), `at_once` reads in flight: a queue page's 60 rows in one call instead of one
    ticket detail each."""
    gate = asyncio.Semaphore(at_once)

    async def one(key: str) -> Timer | None:
        async with gate:
            return await store.get(key)

    keys = [domain.timer_key(ticket, name) for ticket in dict.fromkeys(ticket_ids) for name in names]
    return [t for t in await asyncio.gather(*(one(k) for k in keys)) if t is not None and t.started_at is not None]


REPAIR_TIMERS = (domain.REPAIR_PROGRESS, domain.REPAIR_RETURN)
# Clocks a ticket's own events start: the first two with the ticket, the rest during the work.
OPENING_TIMERS = ("response", "dispatch")
WORK_TIMERS = ("confirmation", "redispatch", "escalation", "remote_guidance")


async def stop_if_running(
    name: str, *, ticket_id: str, at: datetime, store: TimerStore, outbox: EventOutbox | None = None, cancel: bool = False,
) -> bool:
    """Stop a clock only if it was started (no stop-before-start marker for clocks most tickets never start)."""
    return await _stop(name, ticket_id=ticket_id, at=at, store=store, outbox=outbox, cancel=cancel, remember=False)


async def pause_ticket_timers(ticket_id: str, *, at: datetime, store: TimerStore) -> list[str]:
    """The ticket waits on the requester (or a vendor, or parts): its running clocks hold. Returns the names held."""
    names = (*OPENING_TIMERS, *WORK_TIMERS)
    return [name for name in names if await store.pause_if(domain.timer_key(ticket_id, name), at=at) is not None]


async def resume_ticket_timers(ticket_id: str, *, at: datetime, book: CalendarBook, store: TimerStore) -> list[str]:
    """Work goes on: each held clock runs again with the business time it had left. Returns the names resumed."""
    resumed: list[str] = []
    for name in (*OPENING_TIMERS, *WORK_TIMERS):
        timer = await store.get(domain.timer_key(ticket_id, name))
        if timer is None or timer.status != "paused":
            continue
        cal = book.get(timer.calendar or "24x7")
        if cal is None:
            raise UnknownCalendar(f"timer {timer.key} runs on calendar {timer.calendar!r}, which is not defined")
        running = domain.resume(timer, at=at, cal=cal)
        if running is not None and await store.restart(running):
            resumed.append(name)
    return resumed


# Which verdict each clock still running gets when its ticket leaves the desk's hands other than by its own stop
# event. met and breached are what compliance is counted from, so a clock whose commitment no longer applies ends
# cancelled and is left out of every rate (a clock already overdue stays breached: domain.stop decides that first).
# - resolved/closed: the desk answered (response met) and, when it resolved at the desk, kept the ticket within its
#   guidance window (remote_guidance met). Nobody was dispatched and nobody had to be: dispatch is cancelled, as are
#   confirmation, re-dispatch and escalation, which nobody performed (counting them met would inflate compliance).
# - cancelled: the requester or the desk withdrew the request; nothing was owed any more, every clock is cancelled.
MET_ON_RESOLVE = frozenset({"response", "remote_guidance"})
LAPSE_ON_CLOSE = frozenset({"dispatch", "confirmation", "redispatch", "escalation"})


def cancels_on_close(name: str, new_status: str) -> bool:
    """Whether closing the ticket into `new_status` cancels the clock `name` (else it is met, if in time)."""
    return new_status == "cancelled" or name not in MET_ON_RESOLVE


async def close_ticket_timers(
    ticket_id: str, *, at: datetime, store: TimerStore, outbox: EventOutbox | None = None, new_status: str = "resolved",
) -> list[str]:
    """The ticket was resolved, cancelled or closed (`new_status`): every clock still running on it stops, with the
    verdict `cancels_on_close` gives. The opening clocks stop even if their start has not arrived yet (a desk fix at
    first contact can overtake ticket.created on another consumer); later clocks only if they were started. Returns
    the names stopped in time (met or cancelled)."""
    stopped = [
        name for name in OPENING_TIMERS
        if await stop_timer(name, ticket_id=ticket_id, at=at, store=store, outbox=outbox,
                            cancel=cancels_on_close(name, new_status))
    ]
    stopped += [
        name for name in WORK_TIMERS
        if await stop_if_running(name, ticket_id=ticket_id, at=at, store=store, outbox=outbox,
                                 cancel=cancels_on_close(name, new_status))
    ]
    return stopped


async def on_repair_updated(
    update: RepairUpdatedV1, *, book: CalendarBook, store: TimerStore, correlation_id: str | None = None,
    outbox: EventOutbox | None = None, progress_working_days: int = domain.PROGRESS_WORKING_DAYS,
) -> str:
    """Sent to a vendor: both repair clocks start. A progress note: the progress cycle ends (met if by its due
    time) and the next starts. Back or closed: both stop (a write-off cancels the return clock: nothing comes
    back). Each ended cycle is announced with its verdict. Returns what it did, for metrics and tests."""
    cal = book.get("office-hours")
    if cal is None:
        raise UnknownCalendar("repair timers need the office-hours calendar")

    def plan(name: str) -> Timer:
        return domain.plan_repair_timer(
            name, repair_id=update.repair_id, ticket_id=update.ticket_id, started_at=update.updated_at, cal=cal,
            correlation_id=correlation_id, progress_working_days=progress_working_days,
        )

    if update.status == "sent_to_vendor":
        progress = await store.get(domain.timer_key(update.repair_id, domain.REPAIR_PROGRESS))
        if progress is None:
            for name in REPAIR_TIMERS:
                await start_timer(plan(name), store=store, outbox=outbox)
            return "started"
        if progress.started_at == update.updated_at:
            # A redelivery: its first delivery may have died after the progress clock and before the return clock,
            # or before a publish. Each start again: one stored already relays what it still holds.
            for name in REPAIR_TIMERS:
                await start_timer(plan(name), store=store, outbox=outbox)
            return "ignored"
        if progress.started_at is not None and progress.stopped_at is None and update.updated_at > progress.started_at:
            ended = await _next_cycle(plan(domain.REPAIR_PROGRESS), cancel=False, store=store, outbox=outbox)
            return "progress" if ended else "ignored"
        return "ignored"  # a redelivery, or a note after the repair came back
    if update.status in ("returned", "closed"):
        written_off = update.stage == "written_off"
        stopped = [
            await stop_timer(name, ticket_id=update.repair_id, at=update.updated_at, store=store, outbox=outbox,
                             cancel=written_off and name == domain.REPAIR_RETURN)
            for name in REPAIR_TIMERS
        ]
        return "stopped" if any(stopped) else "ignored"
    return "ignored"


async def record_holder(ticket_id: str, *, engineer_id: str, at: datetime, holders: HolderStore) -> bool:
    """Remember who holds the ticket now, so that a timer about it is shown to that engineer and no other."""
    return await holders.hold(ticket_id, engineer_id=engineer_id, at=at)


async def may_read_ticket_timer(timer: Timer, *, engineer: str, holders: HolderStore) -> bool:
    """An engineer reads a ticket's clock only while holding the ticket; a repair's clock names no ticket's data."""
    if timer.repair_id is not None:
        return True
    return await holders.holder(timer.ticket_id) == engineer
