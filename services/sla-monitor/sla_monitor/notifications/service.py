"""Notification use cases: tell people of an event, read and set preferences, send a channel's test message."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..calendar_book import CalendarBook
from ..notify import ChannelSender, queue
from ..ports import NotificationStore
from .channels import IN_APP, NotifyChannel, with_in_app
from .inbox import InboxStore, MemoryInboxStore, Notice, texts_of
from .plan import Recipient, audience, plan
from .preferences import DEFAULT_ROLE_EVENTS, ChannelChoice, Preference, PreferenceIn, role_key, user_key
from .ratelimit import Buckets
from .stores import MemoryNumberStore, NumberStore, PreferenceStore
from .templates import render


@dataclass
class NotificationWiring:
    """What the notification edges need; main.py builds it (tests build it with memory stores)."""

    store: NotificationStore
    preferences: PreferenceStore
    channels: Mapping[str, NotifyChannel]
    sender: ChannelSender | None
    buckets: Buckets = field(default_factory=Buckets)
    inbox: InboxStore = field(default_factory=MemoryInboxStore)
    numbers: NumberStore = field(default_factory=MemoryNumberStore)

    def __post_init__(self) -> None:
        self.channels = with_in_app(self.channels)  # the in-app channel is always there


def memory_wiring() -> NotificationWiring:
    """No channels, memory stores: for tests that build the app on memory adapters (the service uses the database)."""
    from ..adapters.memory import MemoryNotificationStore
    from .stores import MemoryPreferenceStore

    return NotificationWiring(store=MemoryNotificationStore(), preferences=MemoryPreferenceStore(), channels={}, sender=None)


async def _preference_of(recipient: Recipient, prefs: PreferenceStore) -> Preference | None:
    role = await prefs.get(role_key(recipient.role))
    if recipient.subject:
        own = await prefs.get(user_key(recipient.subject))
        return own if own is not None else role
    if recipient.engineer_id:
        own = await prefs.for_engineer(recipient.engineer_id)
        return own if own is not None else role
    return role


async def notify_event(
    *,
    event_id: str,
    kind: str,
    fields: Mapping[str, Any],
    ticket_id: str = "",
    holder: str | None = None,
    wired: NotificationWiring,
    book: CalendarBook,
    now: datetime,
) -> int:
    """Plan and store what an event tells whom; idempotent per event id. Returns how many records are new."""
    if ticket_id and not (fields.get("number") and fields.get("title")):
        # Dispatch's events carry the number (so a notice never waits on the order the two consumers run in); the
        # title, and the number of older events, come from what ticket.created told us.
        facts = await wired.numbers.facts(ticket_id)
        fields = {**(facts or {}), **fields}
    recipients = [(r, await _preference_of(r, wired.preferences)) for r in audience(kind, fields, holder=holder)]
    planned = plan(
        event_id=event_id, kind=kind, fields=fields, ticket_id=ticket_id, recipients=recipients,
        channels=wired.channels, book=book, now=now,
    )
    return await queue(planned, store=wired.store)


async def read_preference(key: str, *, prefs: PreferenceStore) -> Preference:
    """The stored preference, or the defaults (nothing chosen yet: no channels)."""
    return await prefs.get(key) or Preference(key=key)


async def read_own_preference(key: str, role: str, *, prefs: PreferenceStore) -> Preference:
    """A person's own preference; without one, what reaches them: their role's (marked as not theirs by having no
    `updated_at`), else nothing chosen."""
    own = await prefs.get(key)
    if own is not None:
        return own
    inherited = await prefs.get(role_key(role))
    if inherited is None:
        return Preference(key=key)
    return inherited.model_copy(update={"key": key, "updated_at": None, "updated_by": None})


def default_role_preference(role: str, *, now: datetime) -> Preference:
    return Preference(
        key=role_key(role), events=DEFAULT_ROLE_EVENTS[role], channels=(ChannelChoice(channel=IN_APP),),
        updated_at=now, updated_by="defaults",
    )


async def seed_role_defaults(*, prefs: PreferenceStore, now: datetime) -> list[str]:
    """Give each role the in-app channel for the events that concern it, where no role preference is stored yet, or
    where the stored one is still an earlier release's defaults (nobody chose it: a new kind of notice, such as the
    agency's replacement requests, then reaches the role after an upgrade). Returns the roles seeded or brought up to
    date now (none on a second start, none where an admin chose)."""
    seeded: list[str] = []
    for role in DEFAULT_ROLE_EVENTS:
        fresh = default_role_preference(role, now=now)
        if await prefs.put_if_absent(fresh):
            seeded.append(role)
            continue
        stored = await prefs.get(fresh.key)
        if stored is not None and stored.updated_by == "defaults" and set(stored.events) != set(fresh.events):
            await prefs.put(stored.model_copy(update={"events": fresh.events, "updated_at": now}))
            seeded.append(role)
    return seeded


async def set_preference(
    key: str, update: PreferenceIn, *, engineer_id: str | None, by: str, channels: Mapping[str, NotifyChannel],
    prefs: PreferenceStore, now: datetime,
) -> Preference:
    """Replace a preference whole; every chosen channel must exist, and email needs an address."""
    for i, choice in enumerate(update.channels):
        channel = channels.get(choice.channel)
        if channel is None:
            raise UnknownChannel(i, choice.channel, sorted(channels))
        if channel.kind in ("email", "sms") and not choice.address:
            raise MissingAddress(i, channel.kind)
    preference = Preference(
        key=key, engineer_id=engineer_id, updated_at=now, updated_by=by, **update.model_dump(),
    )
    await prefs.put(preference)
    return preference


async def send_test(
    channel_id: str, *, address: str | None, language: str, by: str, wired: NotificationWiring,
) -> None:
    """Send the test message now (an admin is waiting for the answer); raises the channel's refusal. The in-app
    channel's test is a notice for the admin who asked."""
    channel = wired.channels[channel_id]
    if channel.kind == "console":
        fields = {"channel": channel.name or channel_id, "by": by}
        await wired.inbox.add(Notice(id=str(uuid.uuid4()), audience=user_key(by), event="test", texts=texts_of("test", fields),
                                     created_at=datetime.now(UTC)))
        return
    if wired.sender is None:
        raise RuntimeError("no sender is wired")
    title, body = render("test", language, {"channel": channel.name or channel_id, "by": by})
    await wired.sender.send(channel=channel, address=address, title=title, body=body)


class UnknownChannel(ValueError):
    def __init__(self, index: int, channel: str, known: list[str]) -> None:
        super().__init__(f"unknown channel {channel!r}; configured: {', '.join(known) or 'none'}")
        self.index = index
        self.channel = channel


class MissingAddress(ValueError):
    def __init__(self, index: int, kind: str) -> None:
        super().__init__(f"a {kind} channel needs an address (a {'mailbox' if kind == 'email' else 'phone number'})")
        self.index = index
        self.kind = kind


__all__ = [
    "NotificationWiring", "memory_wiring", "notify_event", "read_own_preference", "read_preference", "role_key",
    "seed_role_defaults", "send_test", "set_preference", "user_key",
]
