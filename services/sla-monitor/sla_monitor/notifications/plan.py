"""Which people an event reaches and the records that will reach them. Pure: values in, notifications out.

An event names a person (the engineer a ticket was assigned to) or a role (the agency for an authorization); a
person's preference wins, else their role's. Each (person or role, channel, address) gets one record whose id is
derived from the event id, so a redelivered event plans nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..calendar_book import CalendarBook
from ..escalation import Notification
from .channels import IN_APP, NotifyChannel
from .inbox import texts_of
from .preferences import Preference, deliver_at, is_urgent
from .templates import render

EVENT_NAMESPACE = uuid.UUID("6f3c1a2e-8d47-4b59-a0e1-52c9d7b3e846")


@dataclass(frozen=True)
class Recipient:
    """A person (by engineer id, when the event names one) or everyone holding a role (its shared channels)."""

    role: str
    engineer_id: str | None = None
    subject: str | None = None  # a person by account (a requester), reached at user:<subject>

    @property
    def label(self) -> str:
        if self.subject:
            return f"user:{self.subject}"
        return f"engineer:{self.engineer_id}" if self.engineer_id else f"role:{self.role}"


def audience(kind: str, fields: Mapping[str, Any], *, holder: str | None = None) -> list[Recipient]:
    """Who an event is for. The desk's roles: agent (the desk), engineer, manager (the project manager), agency."""
    if kind == "assigned":
        return [Recipient("engineer", str(fields["engineer_id"]))]
    if kind == "needs_answer":
        return [Recipient("agent")]
    if kind == "resolved":
        staff = [Recipient("engineer", holder)] if holder else [Recipient("agent")]
        requester = fields.get("requester_id")
        return [*staff, Recipient("requester", subject=str(requester))] if requester else staff
    if kind == "escalation":
        told = [Recipient("engineer", str(e)) for e in fields.get("notify") or ()]
        return [*told, Recipient("manager")]
    if kind == "authorization_waiting":
        return [Recipient("agency")]
    if kind == "report_submitted":
        return [Recipient("agency")]
    if kind == "report_returned":
        return [Recipient("manager")]
    if kind == "incident_raised":
        return [Recipient("agency"), Recipient("manager"), Recipient("auditor")]
    if kind == "replacement_requested":
        return [Recipient("manager")]
    if kind == "replacement_answered":
        return [Recipient("agency")]
    if kind == "breach":
        return [Recipient("manager"), Recipient("agent")]
    return []


def notification_id(*, event_id: str, recipient: str, channel: str, address: str | None) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{event_id}|{recipient}|{channel}|{address or ''}"))


def plan(
    *,
    event_id: str,
    kind: str,
    fields: Mapping[str, Any],
    ticket_id: str,
    recipients: list[tuple[Recipient, Preference | None]],
    channels: Mapping[str, NotifyChannel],
    book: CalendarBook,
    now: datetime,
) -> list[Notification]:
    """One record per recipient and chosen channel that wants this kind; held until duty time unless urgent."""
    urgent = is_urgent(kind, dict(fields))
    out: dict[str, Notification] = {}
    for recipient, pref in recipients:
        if pref is None or kind not in pref.events:
            continue
        subject, body = render(kind, pref.language, dict(fields))
        due = deliver_at(now, urgent=urgent, preference=pref, calendar=book.get(pref.duty_calendar))
        for choice in pref.channels:
            if choice.channel not in channels:
                continue  # a channel an admin removed since: nothing to send it through
            in_app = choice.channel == IN_APP
            address = None if in_app else choice.address
            nid = notification_id(event_id=event_id, recipient=recipient.label, channel=choice.channel, address=address)
            payload: dict[str, Any] = {"event": kind, "event_id": event_id}
            if in_app:
                # Kept for the reader, who reads it in their own language whenever they look: quiet hours do not apply.
                number = fields.get("number")
                payload |= {"audience": recipient.label, "number": str(number) if number else None,
                            "texts": texts_of(kind, dict(fields))}
            out[nid] = Notification(
                id=nid, ticket_id=ticket_id, timer="", level=0, role=recipient.role, channel="apprise",
                target=choice.channel, address=address, subject=subject, body=body,
                payload=payload, due_at=now if in_app else due, event=kind, language=pref.language,
            )
    return list(out.values())
