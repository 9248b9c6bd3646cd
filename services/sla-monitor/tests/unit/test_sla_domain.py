"""SLA timer rules: when a timer breaches, and what a stop that overtook its start leaves behind."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sla_monitor import domain


def running(t0: datetime, *, minutes: int = 60, ticket_id: str = "tkt-1") -> domain.Timer:
    return domain.start_timer(ticket_id=ticket_id, name="response", started_at=t0, duration=timedelta(minutes=minutes))


def test_start_timer_is_running_and_due_after_the_duration(t0: datetime) -> None:
    timer = domain.start_timer(
        ticket_id="tkt-1", name="response", started_at=t0, duration=timedelta(minutes=30), correlation_id="corr-1"
    )

    assert timer.status == "running"
    assert timer.started_at == t0
    assert timer.due_at == t0 + timedelta(minutes=30)
    assert timer.correlation_id == "corr-1"
    assert timer.key == domain.timer_key("tkt-1", "response") == "tkt-1:response"


def test_no_breach_before_due_at(t0: datetime) -> None:
    timer = running(t0, minutes=60)

    assert domain.breach(timer, now=t0 + timedelta(minutes=59, seconds=59)) is None


def test_breach_exactly_at_due_at(t0: datetime) -> None:
    timer = running(t0, minutes=60)
    due = t0 + timedelta(minutes=60)

    decision = domain.breach(timer, now=due)

    assert decision is not None
    breached, event = decision
    assert breached.status == "breached"
    assert breached.breached_at == due


def test_breach_after_due_at_describes_the_missed_timer(t0: datetime) -> None:
    timer = running(t0, minutes=60, ticket_id="tkt-42")
    now = t0 + timedelta(hours=3)

    decision = domain.breach(timer, now=now)

    assert decision is not None
    breached, event = decision
    assert breached.key == timer.key
    assert breached.started_at == timer.started_at and breached.due_at == timer.due_at
    assert (event.ticket_id, event.timer) == ("tkt-42", "response")
    assert (event.started_at, event.due_at, event.breached_at) == (t0, t0 + timedelta(minutes=60), now)


def test_breach_leaves_the_original_timer_unchanged(t0: datetime) -> None:
    timer = running(t0, minutes=1)

    domain.breach(timer, now=t0 + timedelta(hours=1))

    assert timer.status == "running"
    assert timer.breached_at is None


@pytest.mark.parametrize("status", ["stopped", "breached"])
def test_no_breach_unless_running(t0: datetime, status: str) -> None:
    timer = running(t0, minutes=1).model_copy(update={"status": status})

    assert domain.breach(timer, now=t0 + timedelta(days=1)) is None


def test_stopped_before_start_is_stopped_without_a_clock(t0: datetime) -> None:
    timer = domain.stopped_before_start(ticket_id="tkt-1", name="response", at=t0)

    assert timer.status == "stopped"
    assert timer.stopped_at == t0
    assert timer.started_at is None and timer.due_at is None
    assert timer.key == "tkt-1:response"


def test_stopped_before_start_never_breaches(t0: datetime) -> None:
    timer = domain.stopped_before_start(ticket_id="tkt-1", name="response", at=t0)

    assert domain.breach(timer, now=t0 + timedelta(days=365)) is None
