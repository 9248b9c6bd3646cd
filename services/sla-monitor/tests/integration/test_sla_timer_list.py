"""The desk's list of clocks on the memory store and on the real database: the same filter, the same order, pages
that never repeat or skip a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sla_monitor import listing
from sla_monitor.domain import Timer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def clock(ticket: str, name: str, *, due_in: int, warn_in: int | None = None, status: str = "running", **extra: Any) -> Timer:
    due = NOW + due_in * MIN
    return Timer(
        ticket_id=ticket, name=name, status=status, started_at=NOW - 60 * MIN, due_at=due,  # type: ignore[arg-type]
        warning_at=NOW + (warn_in if warn_in is not None else due_in - 12) * MIN, **extra,
    )


CLOCKS = [
    clock("t-soon", "response", due_in=10),  # due within 15 minutes, past its warning
    clock("t-warned", "response", due_in=600, warn_in=-5),  # warned, due much later (office hours overnight)
    clock("t-later", "dispatch", due_in=120),  # in time
    clock("t-breached", "response", due_in=-30, status="breached", breached_at=NOW - 30 * MIN, warned_at=NOW - 40 * MIN),
    clock("t-overdue", "confirmation", due_in=-1),  # past due, the sweep has not marked it yet
    clock("t-closed", "response", due_in=-30, status="breached", breached_at=NOW - 30 * MIN, stopped_at=NOW - 5 * MIN),
    clock("t-met", "response", due_in=5, status="stopped", stopped_at=NOW - MIN),
    clock("t-held", "response", due_in=20, status="paused", paused_at=NOW - MIN),
]


async def _keys(store: Any, query: listing.TimerFilter, *, limit: int = 100) -> list[str]:
    return [t.key for t in await store.page(query, after=None, limit=limit)]


async def test_the_list_filters_as_the_desk_asks(timer_store: Any) -> None:
    for t in CLOCKS:
        assert await timer_store.add(t)

    running = listing.TimerFilter(now=NOW)
    assert await _keys(timer_store, running) == [
        "t-breached:response", "t-overdue:confirmation", "t-soon:response", "t-later:dispatch", "t-warned:response",
    ]
    assert await _keys(timer_store, listing.TimerFilter(now=NOW, breached=True)) == ["t-breached:response", "t-overdue:confirmation"]
    soon = listing.TimerFilter(now=NOW, due_before=NOW + 15 * MIN, breached=False)
    assert await _keys(timer_store, soon) == ["t-soon:response"]
    warned = listing.TimerFilter(now=NOW, warned=True, breached=False)
    assert await _keys(timer_store, warned) == ["t-soon:response", "t-warned:response"]
    assert await _keys(timer_store, listing.TimerFilter(now=NOW, warned=False)) == ["t-later:dispatch"]
    assert await _keys(timer_store, listing.TimerFilter(now=NOW, names=frozenset({"dispatch", "confirmation"}))) == [
        "t-overdue:confirmation", "t-later:dispatch",
    ]
    assert await _keys(timer_store, listing.TimerFilter(now=NOW, state="paused")) == ["t-held:response"]


async def test_cursor_pages_never_repeat_or_skip_a_clock(timer_store: Any) -> None:
    same_due = [clock(f"t-{i:02d}", "response", due_in=30) for i in range(7)]
    for t in [*same_due, clock("t-first", "dispatch", due_in=3), clock("t-last", "dispatch", due_in=90)]:
        await timer_store.add(t)
    query = listing.TimerFilter(now=NOW)

    seen: list[str] = []
    after = None
    for _ in range(10):
        page = await timer_store.page(query, after=after, limit=3)
        seen += [t.key for t in page]
        if len(page) < 3:
            break
        after = listing.decode_cursor(listing.encode_cursor(page[-1]))

    assert seen == ["t-first:dispatch", *(f"t-{i:02d}:response" for i in range(7)), "t-last:dispatch"]
