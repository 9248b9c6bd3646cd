"""Wiring for the SLA monitor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.runtime import Infra

from . import calendar_service, metrics
from .adapters.mongo import MongoCalendarStore, MongoTimerStore
from .calendar_book import BookHolder
from .due_queue import ScheduledTimerStore
from .entrypoints import bus
from .entrypoints.http import router
from .ports import CalendarStore, EventOutbox, TimerStore
from .settings import SlaSettings
from .sweeper import BreachSweeper


@dataclass
class Adapters:
    store: TimerStore
    outbox: EventOutbox
    calendars: CalendarStore
    book: BookHolder


def create_app(settings: SlaSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        mongo = MongoTimerStore(infra.db)
        relay = OutboxRelay(mongo.collection, infra.publisher, interval_s=settings.relay_interval_s)
        await mongo.ensure_indexes()
        store = ScheduledTimerStore(mongo)
        await store.load(await mongo.running())
        calendars = MongoCalendarStore(infra.db)
        book = BookHolder(await calendar_service.load_book(calendars))
        bus.register_calendar_queries(infra.broker, holder=book)
        bus.register(infra.broker, store=store, holder=book, settings=settings)
        bus.register_timer_queries(infra.broker, store=store, settings=settings)
        async def reload() -> None:
            await store.load(await mongo.running())

        sweeper = BreachSweeper(
            store=store, outbox=relay, interval_s=settings.sweep_interval_s,
            reload=reload, reload_interval_s=settings.reload_interval_s,
        )
        relay.start()
        sweeper.start()
        try:
            yield Adapters(store=store, outbox=relay, calendars=calendars, book=book)
        finally:
            await sweeper.stop()
            await relay.stop()

    return build_service_app(
        settings,
        title="Opsdesk SLA monitor",
        description="SLA timers and breaches.",
        registry=metrics.registry,
        routers=[router],
        wire=wire,
        adapters=adapters,
    )
