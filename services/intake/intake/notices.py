"""Requesters are told by mail when their ticket is assigned, waits for their answer, and is resolved.

Sending is driven by the bus, not by a task beside the request: a durable consumer of intake's own
`ticket.status_changed` calls `notify_requester`, and only a mail the SMTP server accepted is acked. A crash before
that redelivers the event, and the mail is sent then; a send that keeps failing is dead-lettered by the shared bus
edge, where it can be seen and replayed. What was sent is remembered by event id (`SentNotices`), so a redelivery
after a successful send (the ack lost) does not mail the requester twice.

The texts come from the requester templates (messages.py), in the requester's language."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from opsdesk_shared.contracts import TicketStatusChangedV1

from . import messages
from .domain import Ticket
from .ports import MailSenders, TicketStore

log = logging.getLogger(__name__)
Occasion = Literal["assigned", "pending", "resolved"]
Outcome = Literal["sent", "duplicate", "no_address", "not_for_requester", "unknown_ticket", "off"]


@dataclass(frozen=True)
class Notice:
    occasion: Occasion
    to: str
    subject: str
    body: str


class RequesterMailer(Protocol):
    """Sends one mail; raises when the mail server did not take it."""

    async def send(self, *, to: str, subject: str, body: str) -> None: ...


class SentNotices(Protocol):
    """The notices already sent, by key (the event's id): a redelivered event mails nobody twice."""

    async def sent(self, key: str) -> bool: ...

    async def mark(self, key: str) -> None: ...


@dataclass
class RequesterNotices:
    """What the bus edge needs to tell requesters: the mailer (None: mail is off) and the record of what was sent."""

    mailer: RequesterMailer | None
    sent: SentNotices
    senders: MailSenders


def occasion_of(changed: TicketStatusChangedV1) -> Occasion | None:
    """The status changes a requester hears about: assigned, pending on them (not on a vendor or parts), resolved."""
    if changed.new_status == "assigned":
        return "assigned"
    if changed.new_status == "pending" and changed.pending_reason == "requester":
        return "pending"
    if changed.new_status == "resolved":
        return "resolved"
    return None


def notice_for(ticket: Ticket, occasion: Occasion, *, to: str, at: datetime, language: str | None = None) -> Notice:
    """The mail for one occasion (`at`: when it happened), from the requester templates in the requester's language."""
    lang = messages.requester_language(ticket, preferred=language)
    engineer = ticket.assignee.engineer_name if ticket.assignee is not None and ticket.assignee.active else ""
    params = {"number": ticket.number, "title": ticket.title, "name": ticket.requester.name, "engineer": engineer, "at": messages.local_time(at)}
    return Notice(
        occasion=occasion, to=to,
        subject=messages.render(f"mail.{occasion}.subject", lang, **params),
        body=messages.render(f"mail.{occasion}.body", lang, **params),
    )


async def notify_requester(
    changed: TicketStatusChangedV1, *, event_id: str, store: TicketStore, notices: RequesterNotices
) -> Outcome:
    """Mail the requester about a status change they should hear of. Raises when the mail server refuses, so the
    bus redelivers; returns what happened otherwise."""
    occasion = occasion_of(changed)
    if occasion is None:
        return "not_for_requester"
    if notices.mailer is None:
        return "off"
    key = f"{event_id}:{occasion}"
    if await notices.sent.sent(key):
        return "duplicate"
    # The change this process stored itself: the ticket as it stored it (or newer), no read (issue 17).
    ticket = await store.recent(changed.ticket_id, since=None) if store.wrote(event_id) else await store.get(changed.ticket_id)
    if ticket is None:
        return "unknown_ticket"
    address = ticket.requester.email or (
        await notices.senders.email_of(ticket.requester_id) if ticket.requester_id else None
    )
    if not address:
        return "no_address"
    notice = notice_for(ticket, occasion, to=address, at=changed.changed_at)
    await notices.mailer.send(to=notice.to, subject=notice.subject, body=notice.body)
    await notices.sent.mark(key)
    log.info("requester told", extra={"fields": {"ticket_id": ticket.id, "occasion": occasion}})
    return "sent"
