"""Running timers ordered by due time, in memory: the sweep pops what is due instead of querying the database.

Loaded once at start-up from the store, then kept in step by the store wrapper below. A query for due timers would
scan the whole collection on FerretDB v1 every sweep; a heap answers in O(log n) and the database is only asked
for the documents that are actually due, by `_id`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import datetime

from opsdesk_shared.contracts import Envelope

from .domain import Timer
from .listing import TimerCursor, TimerFilter
from .ports import Settle, Settled, StopOutcome, TimerStore


class DueQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._due: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._due)

    def add(self, key: str, due_at: datetime) -> None:
        self._due[key] = due_at
        heapq.heappush(self._heap, (due_at, key))

    def add_many(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Bulk add (the start-up load): one heapify, linear, instead of a push per entry."""
        for key, due_at in entries:
            self._due[key] = due_at
        self._heap.extend((due_at, key) for key, due_at in entries)
        heapq.heapify(self._heap)

    def discard(self, key: str) -> None:
        # Lazy: the heap entry stays and is skipped when popped.
        self._due.pop(key, None)

    def pop_due(self, now: datetime, *, limit: int) -> list[str]:
        keys: list[str] = []
        while self._heap and len(keys) < limit and self._heap[0][0] <= now:
            due_at, key = heapq.heappop(self._heap)
            if self._due.get(key) == due_at:
                del self._due[key]
                keys.append(key)
        return keys


class ScheduledTimerStore:
    """A TimerStore that keeps a DueQueue of the running timers beside the real store."""

    def __init__(self, inner: TimerStore, *, queue: DueQueue | None = None) -> None:
        self._inner = inner
        self.queue = queue or DueQueue()
        self.warnings = DueQueue()

    def _schedule(self, timer: Timer) -> None:
        if timer.status != "running":
            return
        if timer.due_at is not None:
            self.queue.add(timer.key, timer.due_at)
        if timer.warning_at is not None and timer.warned_at is None:
            self.warnings.add(timer.key, timer.warning_at)

    async def load(self, running: Sequence[Timer]) -> None:
        for timer in running:
            self._schedule(timer)

    def load_schedule(self, entries: Sequence[tuple[str, datetime | None, datetime | None]]) -> None:
        """Bulk start-up load from (key, due_at, warning_at) rows; a heap built once instead of pushed row by row."""
        self.queue.add_many([(key, due_at) for key, due_at, _ in entries if due_at is not None])
        self.warnings.add_many([(key, warning_at) for key, _, warning_at in entries if warning_at is not None])

    async def get(self, key: str) -> Timer | None:
        return await self._inner.get(key)

    async def add(self, timer: Timer, *, events: Sequence[Envelope] = ()) -> bool:
        added = await self._inner.add(timer, events=events)
        if added:
            self._schedule(timer)
        return added

    async def stop(self, key: str, *, at: datetime) -> bool:
        stopped = await self._inner.stop(key, at=at)
        if stopped:
            self.queue.discard(key)
            self.warnings.discard(key)
        return stopped

    async def stop_if(self, key: str, *, at: datetime, in_time: Callable[[Timer], bool]) -> StopOutcome:
        outcome = await self._inner.stop_if(key, at=at, in_time=in_time)
        if outcome == "stopped":
            self.queue.discard(key)
            self.warnings.discard(key)
        return outcome

    async def pause_if(self, key: str, *, at: datetime) -> Timer | None:
        paused = await self._inner.pause_if(key, at=at)
        if paused is not None:
            self.queue.discard(key)
            self.warnings.discard(key)
        return paused

    async def replace_early_stop(self, timer: Timer) -> bool:
        replaced = await self._inner.replace_early_stop(timer)
        if replaced:
            self._schedule(timer)
        return replaced

    async def due(self, now: datetime, *, limit: int) -> list[Timer]:
        timers = []
        for key in self.queue.pop_due(now, limit=limit):
            timer = await self._inner.get(key)
            if timer is not None and timer.status == "running":
                timers.append(timer)
        return timers

    async def replace(self, timer: Timer, *, expect: Timer, events: Sequence[Envelope] = ()) -> bool:
        replaced = await self._inner.replace(timer, expect=expect, events=events)
        if replaced:
            self.queue.discard(timer.key)
            self.warnings.discard(timer.key)
            self._schedule(timer)
        return replaced

    async def settle(self, key: str, decide: Settle) -> Settled:
        settled = await self._inner.settle(key, decide)
        if settled.written is not None:
            self.queue.discard(key)
            self.warnings.discard(key)
            self._schedule(settled.written)
        return settled

    async def restart(self, timer: Timer) -> bool:
        restarted = await self._inner.restart(timer)
        if restarted:
            self._schedule(timer)
        return restarted

    async def page(self, query: TimerFilter, *, after: TimerCursor | None, limit: int) -> list[Timer]:
        return await self._inner.page(query, after=after, limit=limit)

    async def warnings_due(self, now: datetime, *, limit: int) -> list[Timer]:
        timers = []
        for key in self.warnings.pop_due(now, limit=limit):
            timer = await self._inner.get(key)
            if timer is not None and timer.status == "running" and timer.warned_at is None:
                timers.append(timer)
        return timers

    async def mark_warned(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        return await self._inner.mark_warned(timer, events)

    async def mark_breached(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        self.warnings.discard(timer.key)
        return await self._inner.mark_breached(timer, events)
