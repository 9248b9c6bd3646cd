"""Duty rota: who is on site, who is on call by phone, at a given moment in the agency's time zone. Pure rules.

The contract staffs the site 5x8 (office hours) and keeps a phone on-call at other times. An engineer without a
rota counts as always on duty, so a roster can start simple and gain shifts later.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

AGENCY_TZ = ZoneInfo("Asia/Shanghai")
DutyMode = Literal["onsite", "phone"]


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return value


class Shift(BaseModel):
    """A weekly shift: on these weekdays (0 = Monday), from start to end local time, on site or on call."""

    model_config = ConfigDict(frozen=True)

    weekdays: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4))
    start: str = Field(examples=["08:30"])
    end: str = Field(examples=["12:00"])
    mode: DutyMode = "onsite"

    @field_validator("weekdays")
    @classmethod
    def _days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or any(d not in range(7) for d in days):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return days

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, text: str) -> str:
        _minutes(text)
        return text

    def covers(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.weekdays and _minutes(self.start) <= minute < _minutes(self.end)


def duty_at(shifts: tuple[Shift, ...], at: datetime) -> DutyMode | None:
    """On site beats on call; None when no shift covers the moment."""
    local = at.astimezone(AGENCY_TZ)
    modes = {s.mode for s in shifts if s.covers(local)}
    if "onsite" in modes:
        return "onsite"
    return "phone" if "phone" in modes else None


OFFICE_HOURS: tuple[Shift, ...] = (Shift(start="08:30", end="12:00"), Shift(start="14:00", end="17:30"))
PHONE_OUTSIDE_OFFICE: tuple[Shift, ...] = (
    Shift(start="00:00", end="08:30", mode="phone"),
    Shift(start="12:00", end="14:00", mode="phone"),
    Shift(start="17:30", end="24:00", mode="phone"),
    Shift(weekdays=(5, 6), start="00:00", end="24:00", mode="phone"),
)


def next_onsite_start(rotas: list[tuple[Shift, ...]], at: datetime) -> datetime | None:
    """The first moment after `at` when an on-site shift of one of these rotas begins (within the next 8 days), in
    UTC-comparable aware time; None when no rota has one. A rota without shifts is always on duty: `at` itself."""
    if any(not rota for rota in rotas):
        return at
    local = at.astimezone(AGENCY_TZ)
    best: datetime | None = None
    for rota in rotas:
        for shift in rota:
            if shift.mode != "onsite":
                continue
            start = _minutes(shift.start)
            for days in range(8):
                day = (local + timedelta(days=days)).date()
                if day.weekday() not in shift.weekdays or start >= 24 * 60:
                    continue
                moment = datetime.combine(day, time(start // 60, start % 60), tzinfo=AGENCY_TZ)
                if moment > local:
                    best = moment if best is None or moment < best else best
                    break
    return best
