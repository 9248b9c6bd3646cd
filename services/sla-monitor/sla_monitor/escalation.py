"""Escalation when a commitment is missed: who is told, when, and through which channel. Pure rules, no I/O.

A breach notifies the first level at once and each further level after its delay (desk lead, then the project
manager, then the agency's IT manager). A ticket that gets assigned in the meantime stops the levels not yet sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts import SlaBreachedV1

from .notifications.templates import Language, render

# email and webhook: the address or URL is the target (the chain's own contacts); apprise: the target is a configured
# channel's id (notifications.channels), whose secret URL lives in settings and never in a record.
Channel = Literal["email", "webhook", "apprise"]
NotificationStatus = Literal["pending", "sent", "failed", "cancelled"]
NOTIFICATION_NAMESPACE = uuid.UUID("1d4e8a62-93b0-4f1e-b6c5-27a9e0d4f813")


class EscalationLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: int = Field(ge=1)
    role: str
    after_minutes: float = Field(ge=0, description="Delay after the breach before this level is told")
    emails: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    channels: tuple[str, ...] = Field(default=(), description="Configured channel ids (robots, SMS) this level is told on")
    language: Language = "zh-CN"


DEFAULT_CHAIN: tuple[EscalationLevel, ...] = (
    EscalationLevel(level=1, role="desk_lead", after_minutes=0),
    EscalationLevel(level=2, role="project_manager", after_minutes=20),
    EscalationLevel(level=3, role="agency_it_manager", after_minutes=60),
)


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    ticket_id: str
    timer: str
    level: int
    role: str
    channel: Channel
    target: str
    subject: str
    body: str
    payload: dict[str, Any]
    due_at: datetime
    status: NotificationStatus = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    event: str | None = Field(default=None, description="The template's event kind (breach, assigned, ...)")
    address: str | None = Field(default=None, description="For an apprise channel: the mailbox or phone number there")
    language: str = "zh-CN"


def notification_id(*, ticket_id: str, timer: str, level: int, channel: str, target: str) -> str:
    """Deterministic, so a redelivered breach plans nothing twice and a cancel can find each one by key."""
    return str(uuid.uuid5(NOTIFICATION_NAMESPACE, f"{ticket_id}|{timer}|{level}|{channel}|{target}"))


def _level_text(breach: SlaBreachedV1, level: EscalationLevel) -> tuple[str, str, str]:
    """(kind, title, body): the first level is told of the breach, later levels of its escalation."""
    fields = breach.model_dump()
    title, body = render("breach", level.language, fields)
    if level.level == 1:
        return "breach", title, body
    title, body = render("escalation", level.language, {**fields, "level": level.level, "role": level.role, "description": body})
    return "escalation", title, body


def _targets(level: EscalationLevel) -> list[tuple[str, str]]:
    return (
        [("email", t) for t in level.emails] + [("webhook", t) for t in level.webhooks]
        + [("apprise", c) for c in level.channels]
    )


def plan_escalation(breach: SlaBreachedV1, chain: tuple[EscalationLevel, ...], *, now: datetime) -> list[Notification]:
    notifications = []
    for level in chain:
        kind, subject, body = _level_text(breach, level)
        payload = {"event": "sla.escalation", "level": level.level, "role": level.role, **breach.model_dump(mode="json")}
        for channel, target in _targets(level):
            notifications.append(
                Notification(
                    id=notification_id(
                        ticket_id=breach.repair_id or breach.ticket_id, timer=breach.timer, level=level.level,
                        channel=channel, target=target,
                    ),
                    ticket_id=breach.ticket_id, timer=breach.timer, level=level.level, role=level.role,
                    channel=channel,  # type: ignore[arg-type]
                    target=target, subject=subject, body=body, payload=payload,
                    due_at=now + timedelta(minutes=level.after_minutes), event=kind, language=level.language,
                )
            )
    return notifications


def escalation_ids(ticket_id: str, timers: tuple[str, ...], chain: tuple[EscalationLevel, ...]) -> list[str]:
    """Every notification a breach of these timers could have planned: what an assignment cancels."""
    return [
        notification_id(ticket_id=ticket_id, timer=timer, level=level.level, channel=channel, target=target)
        for timer in timers
        for level in chain
        for channel, target in _targets(level)
    ]


def after_attempt(
    n: Notification, *, error: str | None, now: datetime, max_attempts: int, backoff_s: float
) -> Notification:
    """The notification after one delivery attempt: sent, retried later with back-off, or failed for good."""
    attempts = n.attempts + 1
    if error is None:
        return n.model_copy(update={"status": "sent", "attempts": attempts, "sent_at": now, "last_error": None})
    if attempts >= max_attempts:
        return n.model_copy(update={"status": "failed", "attempts": attempts, "last_error": error})
    retry_at = now + timedelta(seconds=backoff_s * 2 ** (attempts - 1))
    return n.model_copy(update={"attempts": attempts, "last_error": error, "next_attempt_at": retry_at, "due_at": retry_at})
