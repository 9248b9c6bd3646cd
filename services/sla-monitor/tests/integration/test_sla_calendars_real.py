"""Calendar data on the real database and calendar questions over the real NATS."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from opsdesk_shared.contracts import subjects
from sla_monitor import calendar_service
from sla_monitor.adapters.mongo import MongoCalendarStore
from sla_monitor.calendar import BusinessCalendar
from sla_monitor.calendar_book import BookHolder
from sla_monitor.entrypoints import bus
from sla_monitor.holiday_data import YearSchedule

pytestmark = pytest.mark.integration


async def test_uploaded_year_and_defined_calendar_survive_a_reload(mongo_db: Any) -> None:
    store = MongoCalendarStore(mongo_db)
    year = YearSchedule(year=2027, holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset({date(2027, 1, 2)}), source="upload")
    await store.save_schedule(year)
    night = BusinessCalendar.model_validate({"name": "night", "timezone": "Asia/Shanghai", "working_day_windows": ["20:00-24:00"]})
    await store.save_definition(night)

    again = MongoCalendarStore(mongo_db)
    assert await again.schedules() == [year]
    assert [c.name for c in await again.definitions()] == ["night"]
    book = await calendar_service.load_book(again)
    assert book.schedules[2027].source == "upload" and 2026 in book.schedules
    assert book.get("night") is not None and book.get("office-hours") is not None


async def test_calendar_query_is_answered_over_request_reply(mongo_db: Any, broker: Any) -> None:
    holder = BookHolder(await calendar_service.load_book(MongoCalendarStore(mongo_db)))
    bus.register_calendar_queries(broker, holder=holder)
    await broker.start()
    question = {"op": "deadline", "calendar": "office-hours", "start": "2026-09-30T17:00:00+08:00", "business_minutes": 60}
    reply = json.loads((await broker.request(json.dumps(question).encode(), subjects.CALENDAR_QUERY, timeout=3)).body)
    assert reply["status"] == 200
    # 30 min on Sep 30, then the National Day and Mid-Autumn days off; 2026-10-08 is the next working day.
    assert reply["result"]["due_at_local"] == "2026-10-08T09:00:00+08:00"

    bad = json.loads((await broker.request(b'{"op": "deadline", "calendar": "office-hours"}', subjects.CALENDAR_QUERY, timeout=3)).body)
    assert bad["status"] == 422 and {tuple(e["loc"]) for e in bad["errors"]} >= {("deadline", "start")}
