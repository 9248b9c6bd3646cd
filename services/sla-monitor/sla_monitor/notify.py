"""Notification use cases: plan escalations on a breach (cancelled by an assignment), plan what an event tells people,
and deliver what is due, with a token bucket per channel, batching for robots, and retries with back-off."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from opsdesk_shared.contracts import SlaBreachedV1

from . import escalation, metrics
from .escalation import EscalationLevel, Notification
from .notifications import templates
from .notifications.channels import IN_APP, NotifyChannel
from .notifications.inbox import InboxStore, notice_of
from .notifications.ratelimit import Buckets
from .ports import EmailSender, NotificationStore, WebhookSender

log = logging.getLogger(__name__)


class ChannelSender(Protocol):
    async def send(self, *, channel: NotifyChannel, address: str | None, title: str, body: str) -> None: ...


async def escalate_breach(
    breach: SlaBreachedV1, *, chain: tuple[EscalationLevel, ...], store: NotificationStore, now: datetime
) -> int:
    """Plan every level's notifications; idempotent for a redelivered breach. Returns how many are new."""
    return await queue(escalation.plan_escalation(breach, chain, now=now), store=store)


async def queue(notifications: list[Notification], *, store: NotificationStore) -> int:
    """Store planned notifications (each id once); the delivery loop sends them. Returns how many are new."""
    planned = 0
    for notification in notifications:
        if await store.add(notification):
            planned += 1
            metrics.notifications_queued.labels(notification.channel).inc()
    return planned


async def cancel_escalation(
    ticket_id: str, *, timers: tuple[str, ...], chain: tuple[EscalationLevel, ...], store: NotificationStore
) -> int:
    """The ticket got its engineer: levels not yet told need not be. Each is found by key, none by a scan."""
    cancelled = 0
    for notification_id in escalation.escalation_ids(ticket_id, timers, chain):
        cancelled += await store.cancel(notification_id)
    return cancelled


async def _record(
    n: Notification, *, error: str | None, now: datetime, store: NotificationStore, max_attempts: int, backoff_s: float,
    label: str,
) -> Notification:
    after = escalation.after_attempt(n, error=error, now=now, max_attempts=max_attempts, backoff_s=backoff_s)
    await store.save(after)
    metrics.notifications.labels(label, after.status).inc()
    if after.status == "failed":
        # The target (an address, a URL or a channel id) may be a secret webhook URL: log the id and channel only.
        log.error("notification failed for good", extra={"fields": {"id": n.id, "channel": label, "error": error}})
    return after


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


async def deliver_due(
    *,
    now: datetime,
    store: NotificationStore,
    email: EmailSender,
    webhook: WebhookSender,
    max_attempts: int,
    backoff_s: float,
    limit: int = 100,
    sender: ChannelSender | None = None,
    channels: Mapping[str, NotifyChannel] | None = None,
    buckets: Buckets | None = None,
    inbox: InboxStore | None = None,
) -> int:
    """Send what is due; every attempt is recorded, failures retried with back-off, then marked failed.

    Notifications on a configured channel are grouped per (channel, address), joined up to the channel's batch size
    into one message, and each message takes a token from the channel's bucket; without a token the rest wait
    (their due time moves to the next token, no attempt is counted): over the rate is never a reason to drop.
    Notifications on the in-app channel are kept in the inbox for their reader (no rate, no batch).
    """
    channels = channels or {}
    buckets = buckets if buckets is not None else Buckets()
    sent = 0
    groups: dict[tuple[str, str | None], list[Notification]] = {}
    for n in await store.due(now, limit=limit):
        if n.channel == "apprise" and n.target == IN_APP:
            try:
                if inbox is None:
                    raise RuntimeError("no inbox is wired")
                await inbox.add(notice_of(n, now=now))  # False for a retry after a lost save: kept once either way
                error = None
            except Exception as exc:
                error = _error(exc)
            after = await _record(n, error=error, now=now, store=store, max_attempts=max_attempts, backoff_s=backoff_s,
                                  label=IN_APP)
            sent += after.status == "sent"
            continue
        if n.channel == "apprise":
            groups.setdefault((n.target, n.address), []).append(n)
            continue
        try:
            if n.channel == "email":
                await email.send(to=n.target, subject=n.subject, body=n.body)
            else:
                await webhook.post(url=n.target, payload=n.payload)
            error = None
        except Exception as exc:
            error = _error(exc)
        after = await _record(n, error=error, now=now, store=store, max_attempts=max_attempts, backoff_s=backoff_s, label=n.channel)
        sent += after.status == "sent"
    for (channel_id, address), group in groups.items():
        sent += await _deliver_group(
            channel_id, address, group, now=now, store=store, sender=sender, channels=channels, buckets=buckets,
            max_attempts=max_attempts, backoff_s=backoff_s,
        )
    return sent


async def _deliver_group(
    channel_id: str, address: str | None, group: list[Notification], *, now: datetime, store: NotificationStore,
    sender: ChannelSender | None, channels: Mapping[str, NotifyChannel], buckets: Buckets, max_attempts: int,
    backoff_s: float,
) -> int:
    channel = channels.get(channel_id)
    if channel is None or sender is None:
        for n in group:
            await _record(n, error=f"channel {channel_id} is not configured", now=now, store=store,
                          max_attempts=max_attempts, backoff_s=backoff_s, label="unconfigured")
        return 0
    bucket = buckets.get(channel_id, per_minute=channel.per_minute, burst=channel.burst)
    size = channel.batch if channel.batches else 1
    sent = 0
    for start in range(0, len(group), size):
        chunk = group[start:start + size]
        if not bucket.take(now):
            wait_until = bucket.next_at(now)
            for n in group[start:]:
                await store.save(n.model_copy(update={"due_at": wait_until, "next_attempt_at": wait_until}))
                metrics.notifications_deferred.labels(channel.kind).inc()
            break
        title, body = templates.batch(chunk[0].language, [(n.subject, n.body) for n in chunk])
        try:
            await sender.send(channel=channel, address=address, title=title, body=body)
            error = None
        except Exception as exc:
            error = _error(exc)
        metrics.notification_messages.labels(channel.kind, "sent" if error is None else "error").inc()
        for n in chunk:
            after = await _record(n, error=error, now=now, store=store, max_attempts=max_attempts, backoff_s=backoff_s,
                                  label=channel.kind)
            sent += after.status == "sent"
    return sent
