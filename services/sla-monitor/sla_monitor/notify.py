"""Escalation use cases: plan the chain on a breach, cancel it on an assignment, deliver what is due with retries."""

from __future__ import annotations

import logging
from datetime import datetime

from opsdesk_shared.contracts import SlaBreachedV1

from . import escalation, metrics
from .escalation import EscalationLevel, Notification
from .ports import EmailSender, NotificationStore, WebhookSender

log = logging.getLogger(__name__)


async def escalate_breach(
    breach: SlaBreachedV1, *, chain: tuple[EscalationLevel, ...], store: NotificationStore, now: datetime
) -> int:
    """Plan every level's notifications; idempotent for a redelivered breach. Returns how many are new."""
    planned = 0
    for notification in escalation.plan_escalation(breach, chain, now=now):
        planned += await store.add(notification)
    return planned


async def cancel_escalation(
    ticket_id: str, *, timers: tuple[str, ...], chain: tuple[EscalationLevel, ...], store: NotificationStore
) -> int:
    """The ticket got its engineer: levels not yet told need not be. Each is found by key, none by a scan."""
    cancelled = 0
    for notification_id in escalation.escalation_ids(ticket_id, timers, chain):
        cancelled += await store.cancel(notification_id)
    return cancelled


async def _send(n: Notification, email: EmailSender, webhook: WebhookSender) -> None:
    if n.channel == "email":
        await email.send(to=n.target, subject=n.subject, body=n.body)
    else:
        await webhook.post(url=n.target, payload=n.payload)


async def deliver_due(
    *,
    now: datetime,
    store: NotificationStore,
    email: EmailSender,
    webhook: WebhookSender,
    max_attempts: int,
    backoff_s: float,
    limit: int = 100,
) -> int:
    """Send what is due; every attempt is recorded, failures retried with back-off, then marked failed."""
    sent = 0
    for n in await store.due(now, limit=limit):
        try:
            await _send(n, email, webhook)
            error = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
        after = escalation.after_attempt(n, error=error, now=now, max_attempts=max_attempts, backoff_s=backoff_s)
        await store.save(after)
        metrics.notifications.labels(n.channel, after.status).inc()
        if after.status == "failed":
            log.error("notification failed for good", extra={"fields": {"id": n.id, "target": n.target, "error": error}})
        sent += after.status == "sent"
    return sent
