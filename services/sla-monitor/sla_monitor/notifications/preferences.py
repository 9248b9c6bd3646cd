"""Who wants which events on which channel, and when: per person, with the role's choice as the default. Pure.

Quiet hours are the time outside the person's duty calendar (office hours by default): a notification planned then
waits for the next duty minute, except breaches and major security incidents, which go at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..calendar import BusinessCalendar, NotWithin, deadline
from .templates import EVENT_KINDS, EventKind, Language

PERSON_EVENTS: tuple[EventKind, ...] = tuple(k for k in EVENT_KINDS if k != "test")
URGENT_KINDS: frozenset[str] = frozenset({"breach"})
MAJOR_SEVERITIES: frozenset[str] = frozenset({"major", "critical", "high"})
CHANNEL_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class ChannelChoice(BaseModel):
    """One configured channel (by id) and, for email or SMS, the address there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str = Field(pattern=CHANNEL_ID, examples=["desk-wecom"])
    address: str | None = Field(default=None, max_length=254, description="Mailbox for email, phone number for SMS")


class PreferenceIn(BaseModel):
    """What a person (or an admin for a role) sets."""

    model_config = ConfigDict(extra="forbid")

    events: tuple[EventKind, ...] = PERSON_EVENTS
    channels: tuple[ChannelChoice, ...] = Field(default=(), max_length=10)
    language: Language = "zh-CN"
    quiet_outside_duty: bool = Field(default=True, description="Hold all but breaches and major incidents until duty time")
    duty_calendar: str = Field(default="office-hours", min_length=1, max_length=64)


class Preference(PreferenceIn):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="user:<subject> or role:<role>")
    engineer_id: str | None = Field(default=None, description="The person's engineer id (events name engineers by it)")
    updated_at: datetime | None = None
    updated_by: str | None = None


# What each role is told in the console on a fresh install (seeded only where no role preference is stored; an admin's
# choice is never overwritten). The in-app channel needs no configuration, so every role is reached from the start.
DEFAULT_ROLE_EVENTS: dict[str, tuple[EventKind, ...]] = {
    "engineer": ("assigned",),
    "agent": ("needs_answer", "breach"),
    "manager": ("breach", "escalation", "incident_raised", "report_returned", "replacement_requested"),
    "agency": ("authorization_waiting", "report_submitted", "incident_raised", "replacement_answered"),
    "requester": ("resolved", "needs_answer"),
}


def user_key(subject: str) -> str:
    return f"user:{subject}"


def role_key(role: str) -> str:
    return f"role:{role}"


def effective(person: Preference | None, role: Preference | None) -> Preference | None:
    """A person's own choice wins whole; without one, their role's."""
    return person if person is not None else role


def is_urgent(kind: str, fields: dict[str, Any]) -> bool:
    """Breaches and major incidents reach people at any hour."""
    if kind in URGENT_KINDS:
        return True
    return kind == "incident_raised" and str(fields.get("severity", "")).lower() in MAJOR_SEVERITIES


def next_duty(calendar: BusinessCalendar, now: datetime) -> datetime:
    """`now` when inside duty time, else the next opening of the calendar."""
    try:
        return deadline(calendar, now, 1 / 60).due_at - timedelta(seconds=1)
    except NotWithin:
        return now


def deliver_at(now: datetime, *, urgent: bool, preference: Preference, calendar: BusinessCalendar | None) -> datetime:
    if urgent or not preference.quiet_outside_duty or calendar is None:
        return now
    return max(now, next_duty(calendar, now))
