"""Wiring for dispatch."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.audit_http import audit_router
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.periodic import Periodic
from opsdesk_shared.readiness import StartupPhases
from opsdesk_shared.runtime import Infra

from . import metrics
from .adapters.mongo import MongoAssignmentStore, MongoRoster
from .agency import http as agency_http
from .agency.calendar import NatsDeadlines
from .agency.service import Oversight
from .agency.stores import MongoReplacementStore, MongoUnauthorizedTickets, MongoViolationLog
from .domain import DEMO_ROSTER, DEMO_ROSTER_ALWAYS_ON_SITE
from .entrypoints import bus
from .entrypoints.http import install_errors, router
from .ports import AssignmentStore, EventOutbox, Roster
from .settings import DispatchSettings
from .waiting import WaitingRoom

log = logging.getLogger(__name__)


@dataclass
class Adapters:
    roster: Roster
    assignments: AssignmentStore
    outbox: EventOutbox
    waiting: WaitingRoom | None = None
    # The agency's oversight (agency/): unauthorized work, violations, replacement requests; memory for tests.
    oversight: Oversight = field(default_factory=Oversight)


async def _oversight(infra: Infra, settings: DispatchSettings) -> Oversight:
    """The agency's oversight on the database, each collection with its own outbox relay."""
    unauthorized = MongoUnauthorizedTickets(infra.db)
    await unauthorized.ensure_indexes()
    violations = MongoViolationLog(infra.db)
    replacements = MongoReplacementStore(infra.db, audit_key=settings.audit_key_bytes)
    await replacements.ensure_indexes()
    return Oversight(
        unauthorized=unauthorized, violations=violations,
        violation_outbox=OutboxRelay(violations.collection, infra.publisher, interval_s=settings.relay_interval_s),
        replacements=replacements,
        replacement_outbox=OutboxRelay(replacements.collection, infra.publisher, interval_s=settings.relay_interval_s),
        deadlines=NatsDeadlines(infra.broker, calendar=settings.replacement_calendar,
                                day_minutes=settings.replacement_day_minutes, timeout_s=settings.calendar_timeout_s),
        answer_working_days=settings.replacement_answer_working_days,
    )


def create_app(settings: DispatchSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        phases = StartupPhases()
        roster = MongoRoster(infra.db)
        assignments = MongoAssignmentStore(infra.db, audit_key=settings.audit_key_bytes)
        relay = OutboxRelay(assignments.collection, infra.publisher, interval_s=settings.relay_interval_s)
        await assignments.ensure_indexes()
        if settings.seed_demo:
            await roster.seed(DEMO_ROSTER if settings.demo_rota == "contract" else DEMO_ROSTER_ALWAYS_ON_SITE)
        phases("indexes")
        held, waiting_ids = await assignments.start_up_scan()
        phases("scan")
        await roster.recount_load(held)
        phases("recount")
        waiting = WaitingRoom(roster=roster, assignments=assignments, outbox=relay)
        for ticket_id in waiting_ids:
            waiting.add(ticket_id)
        oversight = await _oversight(infra, settings)
        bus.register(infra.broker, roster=roster, assignments=assignments, outbox=relay, settings=settings, waiting=waiting,
                     oversight=oversight)
        retry = Periodic(waiting.retry, interval_s=settings.waiting_retry_s, name="waiting-room")
        relays = (relay, oversight.violation_outbox, oversight.replacement_outbox)
        for each in relays:
            each.start()  # type: ignore[attr-defined]
        retry.start()
        phases("rest")
        phases.log(log)
        try:
            yield Adapters(roster=roster, assignments=assignments, outbox=relay, waiting=waiting, oversight=oversight)
        finally:
            await retry.stop()
            for each in relays:
                await each.stop()  # type: ignore[attr-defined]

    app = build_service_app(
        settings,
        title="Opsdesk dispatch",
        description="Engineer roster and assignments.",
        registry=metrics.registry,
        routers=[router, agency_http.router, audit_router(lambda wired: [wired.assignments, wired.oversight.replacements])],
        wire=wire,
        adapters=adapters,
    )
    install_errors(app)
    return app
