"""SLA timers: pure rules for starting, warning, stopping and breaching, in business time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts import EventData, SlaBreachedV1, SlaTimerStartedV1, SlaTimerStoppedV1, SlaWarningV1
from opsdesk_shared.contracts.calendars import TimerView
from opsdesk_shared.contracts.sla import TimerOutcome

from . import calendar
from .calendar import BusinessCalendar

# stopped: met by its own stop event; cancelled: stopped because the commitment no longer applies (the ticket
# closed first). A breached timer stays breached when it later stops; its stopped_at then records when.
TimerStatus = Literal["running", "paused", "stopped", "breached", "cancelled"]


class Timer(BaseModel):
    model_config = ConfigDict(frozen=True)

    ticket_id: str
    name: str
    status: TimerStatus
    started_at: datetime | None = None
    due_at: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    correlation_id: str | None = None
    # Set when the timer runs under a policy in business time; absent on plain wall-clock timers.
    policy: str | None = None
    calendar: str | None = None
    business_minutes: float | None = None
    warning_at: datetime | None = None
    warned_at: datetime | None = None
    approximate: bool = False
    # Repair timers run per repair (a device at a vendor), which may or may not have a ticket.
    repair_id: str | None = None
    # While the ticket waits on the requester (pending), the clock holds; the time held is added up here.
    paused_at: datetime | None = None
    paused_seconds: float = 0.0
    # On a stop-before-start marker: the stop that overtook the start cancels the clock rather than meeting it (the
    # ticket was cancelled, or a desk resolution made dispatch unnecessary), so the late start is decided so too.
    stop_cancels: bool = False

    @property
    def subject(self) -> str:
        return self.repair_id or self.ticket_id

    @property
    def key(self) -> str:
        return timer_key(self.subject, self.name)


def timer_key(ticket_id: str, name: str) -> str:
    return f"{ticket_id}:{name}"


class TimerPolicy(BaseModel):
    """What a timer promises: so many business minutes in a calendar, with a warning share."""

    model_config = ConfigDict(frozen=True)

    name: str
    calendar: str = "office-hours"
    business_minutes: float = Field(gt=0)
    warn_ratio: float = Field(default=0.8, gt=0, lt=1)


# The contract's commitments that today's events can start and stop (the others need the dispatch workflow).
DEFAULT_POLICIES: dict[str, TimerPolicy] = {
    "response": TimerPolicy(name="response", calendar="office-hours", business_minutes=60),
    "dispatch": TimerPolicy(name="dispatch", calendar="office-hours", business_minutes=10),
    # These follow a step staff already took, so they run on the clock, day or night.
    "confirmation": TimerPolicy(name="confirmation", calendar="24x7", business_minutes=30),
    "redispatch": TimerPolicy(name="redispatch", calendar="24x7", business_minutes=10),
    "escalation": TimerPolicy(name="escalation", calendar="24x7", business_minutes=20),
    # The contract caps remote guidance at the desk at five minutes; after that an engineer goes.
    "remote_guidance": TimerPolicy(name="remote_guidance", calendar="24x7", business_minutes=5),
    # The agency's authorization of emergency work that went out first (issue 16): due within working hours
    # (SLA_AUTHORIZATION_WORKING_HOURS, 4 by default), on the agency's office calendar.
    "authorization": TimerPolicy(name="authorization", calendar="office-hours", business_minutes=240),
}
AUTHORIZATION = "authorization"


def clocks_on_created(*, awaiting_authorization: bool, emergency: bool) -> tuple[str, ...]:
    """The clocks ticket.created starts (a responsive ticket). The response clock always: it measures the desk's
    acknowledgement. The dispatch clock only when the work may go out now: work waiting for the agency starts it at
    the authorization (ticket.authorized), so the agency's time is not the team's. Emergency work of a service that
    requires authorization goes out at once, and the agency's decision is due on the `authorization` clock.

    Worked example (office hours 08:30-12:00, 14:00-17:30): filed 09:00 awaiting -> response from 09:00; the desk
    acknowledges 09:20 (response met); the agency approves 15:10 -> dispatch from 15:10, due 15:20; assigned 15:12."""
    names: tuple[str, ...] = ("response",) if awaiting_authorization else ("response", "dispatch")
    return (*names, AUTHORIZATION) if emergency else names


def clocks_on_authorized(*, dispatch: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(started, stopped) by ticket.authorized: the authorization clock stops (emergency work decided); work that
    waited goes to dispatch now, so its dispatch clock starts at the authorization."""
    return (("dispatch",) if dispatch else ()), (AUTHORIZATION,)


def plan_timer(
    policy: TimerPolicy, *, ticket_id: str, started_at: datetime, cal: BusinessCalendar, correlation_id: str | None = None
) -> Timer:
    """A running timer whose due and warning times are computed in the policy's business calendar."""
    due = calendar.deadline(cal, started_at, policy.business_minutes)
    warn = calendar.deadline(cal, started_at, policy.business_minutes * policy.warn_ratio)
    return Timer(
        ticket_id=ticket_id, name=policy.name, status="running", started_at=started_at, due_at=due.due_at,
        warning_at=warn.due_at, correlation_id=correlation_id, policy=policy.name, calendar=cal.name,
        business_minutes=policy.business_minutes, approximate=due.approximate or warn.approximate,
    )


REPAIR_PROGRESS = "repair_progress"
REPAIR_RETURN = "repair_return"
PROGRESS_WORKING_DAYS = 3


def plan_repair_timer(
    name: str, *, repair_id: str, ticket_id: str | None, started_at: datetime, cal: BusinessCalendar,
    correlation_id: str | None = None, progress_working_days: int = PROGRESS_WORKING_DAYS,
) -> Timer:
    """Progress: a written update by close of business of the 3rd working day after the last one. Return: back
    before the second weekend after the send-out. The exact rules are in calendar.py's module docstring."""
    if name == REPAIR_PROGRESS:
        due = calendar.add_working_days(cal, started_at, progress_working_days)
    elif name == REPAIR_RETURN:
        due = calendar.before_second_weekend(cal, started_at)
    else:
        raise ValueError(f"no repair timer named {name!r}")
    return Timer(
        ticket_id=ticket_id or "", repair_id=repair_id, name=name, status="running", started_at=started_at,
        due_at=due.due_at, correlation_id=correlation_id, policy=name, calendar=cal.name, approximate=due.approximate,
    )


def warn(timer: Timer, *, now: datetime) -> tuple[Timer, SlaWarningV1] | None:
    """The warned timer and its event, once, when the warning time has come and the timer still runs."""
    if (
        timer.status != "running" or timer.warned_at is not None or timer.warning_at is None
        or timer.started_at is None or timer.due_at is None or now < timer.warning_at
    ):
        return None
    warned = timer.model_copy(update={"warned_at": now})
    event = SlaWarningV1(
        ticket_id=timer.ticket_id, timer=timer.name, started_at=timer.started_at, warning_at=timer.warning_at,
        due_at=timer.due_at, policy=timer.policy, calendar=timer.calendar, approximate=timer.approximate,
        repair_id=timer.repair_id,
    )
    return warned, event


def start_timer(
    *, ticket_id: str, name: str, started_at: datetime, duration: timedelta, correlation_id: str | None = None
) -> Timer:
    return Timer(
        ticket_id=ticket_id, name=name, status="running", started_at=started_at, due_at=started_at + duration,
        correlation_id=correlation_id,
    )


def stopped_before_start(*, ticket_id: str, name: str, at: datetime, cancel: bool = False) -> Timer:
    """The stop event can overtake the start event on the bus; remember it (and whether it cancels) so the late
    start changes nothing."""
    return Timer(ticket_id=ticket_id, name=name, status="stopped", stopped_at=at, stop_cancels=cancel)


def stops_in_time(timer: Timer, *, at: datetime) -> bool:
    """Only a stop before the due time stops the clock; a late one leaves it running for the sweep to breach.
    A paused clock was paused in time, so stopping it is always in time."""
    if timer.status == "paused":
        return True
    return timer.status == "running" and (timer.due_at is None or at < timer.due_at)


def pause(timer: Timer, *, at: datetime) -> Timer | None:
    """Hold a running clock; None when it is not running or already overdue (a late pause changes nothing)."""
    if timer.status != "running" or (timer.due_at is not None and at >= timer.due_at):
        return None
    return timer.model_copy(update={"status": "paused", "paused_at": at})


def resume(timer: Timer, *, at: datetime, cal: BusinessCalendar) -> Timer | None:
    """Run a paused clock again with the business time it had left: the new due time is that much business time
    after `at` in the timer's calendar (so a pause over a weekend costs nothing either). None when not paused."""
    if timer.status != "paused" or timer.paused_at is None:
        return None
    at = max(at, timer.paused_at)
    update: dict[str, object] = {
        "status": "running", "paused_at": None,
        "paused_seconds": timer.paused_seconds + (at - timer.paused_at).total_seconds(),
    }
    approximate = timer.approximate
    for field in ("due_at", "warning_at"):
        moment = getattr(timer, field)
        if moment is None or (field == "warning_at" and timer.warned_at is not None):
            continue
        left = calendar.elapsed(cal, timer.paused_at, moment) if moment > timer.paused_at else None
        if left is None:
            continue
        shifted = calendar.deadline(cal, at, left.minutes)
        update[field] = shifted.due_at
        approximate = approximate or left.approximate or shifted.approximate
    update["approximate"] = approximate
    return timer.model_copy(update=update)


def late_start_after_early_stop(existing: Timer, started: Timer) -> bool:
    """A stop that overtook its start on the bus, but came after the deadline the start now reveals."""
    return (
        existing.status == "stopped"
        and existing.started_at is None
        and existing.stopped_at is not None
        and started.due_at is not None
        and existing.stopped_at >= started.due_at
    )


def breach(timer: Timer, *, now: datetime) -> tuple[Timer, SlaBreachedV1] | None:
    """The breached timer and its event, or None if it has not run out or is not running."""
    if timer.status != "running" or timer.due_at is None or timer.started_at is None or now < timer.due_at:
        return None
    breached = timer.model_copy(update={"status": "breached", "breached_at": now})
    event = SlaBreachedV1(
        ticket_id=timer.ticket_id, timer=timer.name, started_at=timer.started_at, due_at=timer.due_at, breached_at=now,
        policy=timer.policy, calendar=timer.calendar, approximate=timer.approximate, repair_id=timer.repair_id,
    )
    return breached, event


def started_event(timer: Timer) -> SlaTimerStartedV1:
    """The announcement of a cycle the monitor started: what consumers count running clocks from."""
    assert timer.started_at is not None
    return SlaTimerStartedV1(
        ticket_id=timer.ticket_id, repair_id=timer.repair_id, timer=timer.name, started_at=timer.started_at,
        due_at=timer.due_at, warning_at=timer.warning_at, policy=timer.policy, calendar=timer.calendar,
        approximate=timer.approximate,
    )


def stopped_event(timer: Timer, outcome: TimerOutcome) -> SlaTimerStoppedV1:
    """The verdict on a cycle that has stopped: what consumers count compliance from."""
    assert timer.started_at is not None and timer.stopped_at is not None
    return SlaTimerStoppedV1(
        ticket_id=timer.ticket_id, repair_id=timer.repair_id, timer=timer.name, outcome=outcome, started_at=timer.started_at,
        due_at=timer.due_at, stopped_at=timer.stopped_at, breached_at=timer.breached_at, policy=timer.policy,
        calendar=timer.calendar, approximate=timer.approximate,
    )


def stop(timer: Timer, *, at: datetime, cancel: bool = False) -> tuple[Timer, list[EventData]] | None:
    """The clock stops at `at`: the stopped timer and the events that announce it, or None when this cycle has
    stopped already (a redelivery) or has not started (a stop-before-start marker).

    By the due time (or while paused, which it was in time for): met, or cancelled when `cancel` (the commitment no
    longer applies). After the due time but before the sweep noticed: breached now, with its sla.breached. Already
    breached: the stop only records when, and announces the breached outcome.
    """
    if timer.started_at is None or timer.stopped_at is not None:
        return None
    if stops_in_time(timer, at=at):
        outcome: TimerOutcome = "cancelled" if cancel else "met"
        status: TimerStatus = "cancelled" if cancel else "stopped"
        done = timer.model_copy(update={"status": status, "stopped_at": at, "paused_at": None})
        return done, [stopped_event(done, outcome)]
    if timer.status == "running":
        late = breach(timer, now=max(at, timer.due_at or at))
        assert late is not None
        breached, event = late
        done = breached.model_copy(update={"stopped_at": at})
        return done, [event, stopped_event(done, "breached")]
    if timer.status == "breached":
        done = timer.model_copy(update={"stopped_at": at})
        return done, [stopped_event(done, "breached")]
    return None


def view(timer: Timer) -> TimerView:
    """How the desk sees a timer: a stop in time is a met commitment; a cancelled one counts neither way."""
    state = {"running": "running", "paused": "paused", "stopped": "met", "breached": "breached", "cancelled": "cancelled"}[timer.status]
    return TimerView(
        name=timer.name, policy=timer.policy, state=state, started_at=timer.started_at, due_at=timer.due_at,
        warning_at=timer.warning_at, met_at=timer.stopped_at if timer.status == "stopped" else None,
        breached_at=timer.breached_at, calendar=timer.calendar, approximate=timer.approximate,
        paused_seconds=timer.paused_seconds,
    )
