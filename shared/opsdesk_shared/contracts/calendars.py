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
