"""Business-calendar questions the gateway asks the SLA monitor over core NATS request/reply (not persisted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DeadlineQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    op: Literal["deadline"] = "deadline"
    calendar: str
    start: datetime
    business_minutes: float = Field(ge=0)


class ElapsedQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    op: Literal["elapsed"] = "elapsed"
    calendar: str
    start: datetime
    end: datetime


class CalendarReply(BaseModel):
    """`status` mirrors HTTP: 200 with `result`, 404 unknown calendar, 422 with field `errors`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status: int = 200
    result: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class TimersQuery(BaseModel):
    """The gateway asks the SLA monitor for one ticket's timers (subject timers.query)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ticket_id: str


class TimerView(BaseModel):
    """One commitment on a ticket, as the desk sees it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    policy: str | None = None
    state: str = Field(description="running, paused, met, breached or cancelled (the ticket closed before the clock's own stop)")
    started_at: datetime | None = None
    due_at: datetime | None = None
    warning_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    paused_seconds: float = 0.0
    calendar: str | None = None
    approximate: bool = False


class TimersReply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    ticket_id: str
    timers: list[TimerView] = Field(default_factory=list)
