"""Questions the gateway asks other services over core NATS request/reply."""

from __future__ import annotations

import json
from typing import Any

from faststream.nats import NatsBroker

from opsdesk_shared.contracts import subjects
from opsdesk_shared.contracts.calendars import (
    CalendarReply,
    DeadlineQuery,
    ElapsedQuery,
    TimersQuery,
    TimersReply,
    TimerView,
)

from ..ports import AssetsUnavailable, CalendarUnavailable, TimersUnavailable


class NatsAssetDirectory:
    def __init__(self, broker: NatsBroker, *, timeout_s: float) -> None:
        self._broker = broker
        self._timeout_s = timeout_s

    async def lookup(self, tag: str) -> dict[str, Any] | None:
        try:
            reply = await self._broker.request(json.dumps({"tag": tag}).encode(), subjects.ASSET_LOOKUP, timeout=self._timeout_s)
        except Exception as exc:
            raise AssetsUnavailable(str(exc)) from exc
        answer = json.loads(reply.body)
        return answer.get("asset") if answer.get("found") else None


class NatsBusinessCalendars:
    def __init__(self, broker: NatsBroker, *, timeout_s: float) -> None:
        self._broker = broker
        self._timeout_s = timeout_s

    async def ask(self, query: DeadlineQuery | ElapsedQuery) -> CalendarReply:
        try:
            reply = await self._broker.request(query.model_dump_json().encode(), subjects.CALENDAR_QUERY, timeout=self._timeout_s)
        except Exception as exc:
            raise CalendarUnavailable(str(exc)) from exc
        return CalendarReply.model_validate_json(reply.body)


class NatsTimerDirectory:
    def __init__(self, broker: NatsBroker, *, timeout_s: float) -> None:
        self._broker = broker
        self._timeout_s = timeout_s

    async def timers(self, ticket_id: str) -> list[TimerView]:
        try:
            reply = await self._broker.request(
                TimersQuery(ticket_id=ticket_id).model_dump_json().encode(), subjects.TIMERS_QUERY, timeout=self._timeout_s
            )
            return TimersReply.model_validate_json(reply.body).timers
        except Exception as exc:
            raise TimersUnavailable(str(exc)) from exc
