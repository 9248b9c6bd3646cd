"""When a replacement request's answer is due: N working days of the SLA monitor's business calendar (the calendar
belongs to it; dispatch asks over calendar.query like the gateway does, and re-implements no holiday).

A working day is read as the calendar's business minutes of one working day (office hours: 08:30-12:00 and
14:00-17:30, 420 minutes), so N working days from a request are N x 420 business minutes of office time: holidays,
weekends and make-up working days fall where the SLA monitor's yearly schedule puts them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from faststream.nats import NatsBroker

from opsdesk_shared.contracts import subjects
from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery
from opsdesk_shared.errors import Unavailable


class Deadlines(Protocol):
    async def due(self, *, start: datetime, working_days: int) -> tuple[datetime, bool]:
        """(due time, approximate) N working days after `start`; Unavailable when the SLA monitor does not answer."""
        ...


class NatsDeadlines:
    def __init__(self, broker: NatsBroker, *, calendar: str, day_minutes: int, timeout_s: float) -> None:
        self._broker = broker
        self._calendar = calendar
        self._day_minutes = day_minutes
        self._timeout_s = timeout_s

    async def due(self, *, start: datetime, working_days: int) -> tuple[datetime, bool]:
        query = DeadlineQuery(calendar=self._calendar, start=start, business_minutes=working_days * self._day_minutes)
        try:
            msg = await self._broker.request(query.model_dump_json().encode(), subjects.CALENDAR_QUERY, timeout=self._timeout_s)
            reply = CalendarReply.model_validate_json(msg.body)
        except Exception as exc:
            raise Unavailable(f"the SLA monitor's calendar did not answer: {exc}") from exc
        if reply.status != 200 or not reply.result:
            raise Unavailable(f"the SLA monitor's calendar answered {reply.status}: {reply.errors}")
        return datetime.fromisoformat(str(reply.result["due_at"]).replace("Z", "+00:00")), bool(reply.result.get("approximate"))


class FixedDeadlines:
    """For tests: a fixed answer, or Unavailable when `down`."""

    def __init__(self, due_at: datetime) -> None:
        self.due_at = due_at
        self.down = False
        self.asked: list[tuple[datetime, int]] = []

    async def due(self, *, start: datetime, working_days: int) -> tuple[datetime, bool]:
        if self.down:
            raise Unavailable("calendar down (FixedDeadlines.down)")
        self.asked.append((start, working_days))
        return self.due_at, False
