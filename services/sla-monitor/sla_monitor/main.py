"""Wiring for the SLA monitor."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.periodic import Periodic
from opsdesk_shared.runtime import Infra

from . import calendar_service, metrics, notify, policy_service
from .adapters.memory import MemoryHolderStore
from .adapters.mongo import MongoCalendarStore, MongoHolderStore, MongoNotificationStore, MongoTimerStore
from .adapters.policy_stores import MemoryPolicyStore, MongoPolicyStore
from .adapters.senders import HttpWebhookSender, SmtpEmailSender
from .calendar_book import BookHolder
from .due_queue import ScheduledTimerStore
from .entrypoints import bus
from .entrypoints.http import router
from .entrypoints.policy_http import router as policy_router
from .horizon import HorizonLoader
from .notifications import bus as notification_bus
from .notifications.apprise_sender import AppriseSender
from .notifications.http import router as notifications_router
from .notifications.inbox import MongoInboxStore
from .notifications.service import NotificationWiring, memory_wiring, seed_role_defaults
from .notifications.stores import MongoNumberStore, MongoPreferenceStore, RecentPreferences
from .policy_service import PolicyHolder, PolicyStore
from .ports import CalendarStore, EventOutbox, HolderStore, TimerStore
from .settings import SlaSettings
from .sweeper import BreachSweeper

log = logging.getLogger(__name__)


@dataclass
class Adapters:
    store: TimerStore
    outbox: EventOutbox
    calendars: CalendarStore
    book: BookHolder
    # Who holds each ticket; memory is for tests only (the wiring below always uses the database).
    holders: HolderStore = field(default_factory=MemoryHolderStore)
    notifications: NotificationWiring = field(default_factory=memory_wiring)  # memory likewise: tests only
    # The administrator's SLA policies and escalation contacts (memory: tests only), and what the clocks run on now;
    # create_app seeds the holder from the settings when a test leaves it out.
    policy_store: PolicyStore = field(default_factory=MemoryPolicyStore)
    policies: PolicyHolder | None = None


def policy_holder(settings: SlaSettings) -> PolicyHolder:
    """The environment's policies and chain, used until an administrator saves (and reloaded from the store)."""
    return PolicyHolder(policies=settings.policy_set(), contacts=settings.contact_set())


def create_app(settings: SlaSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        # Where start-up time goes, in the log ("views loaded"): the horizon was 41-47 s of a 50 s restart (issue 14).
        began = time.perf_counter()
        phases: dict[str, float] = {}

        def phase(name: str) -> None:
            phases[name] = round(time.perf_counter() - began - sum(phases.values()), 3)

        mongo = MongoTimerStore(infra.db)
        # Markers, not scans: a million timers are too many to sweep, and their events are rare.
        relay = OutboxRelay(mongo.collection, infra.publisher, interval_s=settings.relay_interval_s, markers=True)
        await mongo.ensure_indexes()
        store = ScheduledTimerStore(mongo)
        horizon = HorizonLoader(slots=mongo.slots, store=store, full_scan=mongo.schedule)
        phase("indexes")
        await horizon.start_up()
        phase("horizon")
        calendars = MongoCalendarStore(infra.db)
        book = BookHolder(await calendar_service.load_book(calendars))
        phase("calendars")
        bus.register_calendar_queries(infra.broker, holder=book)
        notifications = MongoNotificationStore(infra.db)
        await notifications.ensure_indexes()
        holders = MongoHolderStore(infra.db)
        policy_store = MongoPolicyStore(infra.db)
        policies = policy_holder(settings)
        await policy_service.reload(store=policy_store, holder=policies)
        phase("policies")
        bus.register(
            infra.broker, store=store, holder=book, notifications=notifications, settings=settings, outbox=relay, holders=holders,
            policies=policies,
        )
        email = SmtpEmailSender(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender)
        webhook = HttpWebhookSender()
        stored_preferences = MongoPreferenceStore(infra.db)
        await stored_preferences.ensure_indexes()
        preferences = RecentPreferences(stored_preferences)
        await seed_role_defaults(prefs=preferences, now=datetime.now(UTC))  # roles reached in-app from a fresh install
        inbox = MongoInboxStore(infra.db)
        await inbox.ensure_indexes()
        notifying = NotificationWiring(
            store=notifications, preferences=preferences, channels=settings.notify_channels,
            sender=AppriseSender(endpoints=settings.notify_endpoints), inbox=inbox, numbers=MongoNumberStore(infra.db),
        )
        notification_bus.register(infra.broker, wired=notifying, book=book, holders=holders,
                                  max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s)

        async def deliver() -> None:
            await notify.deliver_due(
                now=datetime.now(UTC), store=notifications, email=email, webhook=webhook,
                max_attempts=settings.notify_max_attempts, backoff_s=settings.notify_backoff_s,
                sender=notifying.sender, channels=notifying.channels, buckets=notifying.buckets, inbox=notifying.inbox,
            )

        notifier = Periodic(deliver, interval_s=settings.notify_interval_s, name="notifier")

        async def reload_policies() -> None:
            await policy_service.reload(store=policy_store, holder=policies)

        # Another replica may have saved: one read a minute keeps this one in step (a save here applies at once).
        policy_reloader = Periodic(reload_policies, interval_s=settings.reload_interval_s, name="policies", delay_first=True)
        bus.register_timer_queries(infra.broker, store=store, settings=settings)

        sweeper = BreachSweeper(
            store=store, outbox=relay, interval_s=settings.sweep_interval_s,
            reload=horizon.roll, reload_interval_s=settings.reload_interval_s, reload_first=horizon.roll_first,
        )
        phase("rest")
        log.info("views loaded", extra={"fields": {"seconds": phases, "slots_read": horizon.slots_read,
                                                    "due_queue": len(store.queue)}})
        relay.start()
        sweeper.start()
        notifier.start()
        policy_reloader.start()
        try:
            yield Adapters(store=store, outbox=relay, calendars=calendars, book=book, holders=holders, notifications=notifying,
                           policy_store=policy_store, policies=policies)
        finally:
            await policy_reloader.stop()
            await notifier.stop()
            await webhook.close()
            await sweeper.stop()
            await relay.stop()

    if adapters is not None and adapters.policies is None:
        adapters.policies = policy_holder(settings)
    return build_service_app(
        settings,
        title="Opsdesk SLA monitor",
        description="SLA timers and breaches.",
        registry=metrics.registry,
        routers=[router, policy_router, notifications_router],
        wire=wire,
        adapters=adapters,
    )
