"""Wiring: the one place that reads settings, opens Mongo and NATS, and hands adapters to the edges."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from opsdesk_shared.app import build_service_app
from opsdesk_shared.asyncapi import asyncapi_document
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.periodic import Periodic
from opsdesk_shared.runtime import Infra

from . import handover, index_feed, live, metrics
from .adapters.mongo import MongoCatalogStore, MongoKnownTags, MongoPendingHandovers, MongoTicketStore
from .adapters.nats import NatsAssetDirectory, NatsBusinessCalendars, NatsTimerDirectory
from .adapters.notices import MongoSentNotices, SmtpRequesterMailer
from .adapters.standing import MongoStandingAuthorizations
from .catalog_cache import Catalog
from .entrypoints import authorization_http, bus, catalog_http, errors, mail_http
from .entrypoints.deps import Caller
from .entrypoints.http import router
from .gateway import DotSegmentGuard, internal_minter
from .gateway import routers as gateway_routers
from .gateway.console import ConsoleProxy
from .identity import bootstrap_admin_key, identity_router, mongo_identity
from .identity.roster import HttpRoster, NoRoster, Roster
from .mail_senders import AccountMailSenders
from .notices import RequesterNotices
from .oversight import bus as oversight_bus
from .oversight import http as oversight_http
from .oversight.service import Incidents
from .oversight.store import MongoIncidentStore
from .people import AccountPeople
from .search import TicketIndex
from .settings import IntakeSettings
from .wiring import Adapters

log = logging.getLogger(__name__)


def jwt_secret(settings: IntakeSettings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    # Outside production a missing secret is made up per process: tokens then die with it, which is fine for one
    # developer's stack and refused in production by the settings check.
    log.warning("INTAKE_JWT_SECRET is not set; using a random secret, so tokens end with this process")
    return secrets.token_urlsafe(48)


def create_app(settings: IntakeSettings, adapters: Adapters | None = None) -> FastAPI:
    minter = internal_minter(settings.internal_signing_key, environment=settings.environment)
    if adapters is not None and adapters.minter is None:
        adapters.minter = minter

    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        store = MongoTicketStore(infra.db, audit_key=settings.audit_key_bytes, number_block=settings.number_block)
        relay = OutboxRelay(store.collection, infra.publisher, interval_s=settings.relay_interval_s)
        upstream_client = httpx.AsyncClient(timeout=settings.upstream_timeout_s)
        roster: Roster = (
            HttpRoster(client=upstream_client, base_url=settings.dispatch_url, minter=minter) if settings.dispatch_url else NoRoster()
        )
        identity = mongo_identity(infra.db, jwt_secret=jwt_secret(settings), jwt_ttl_s=settings.jwt_ttl_s, roster=roster)
        await store.ensure_indexes()
        await bootstrap_admin_key(identity.keys, settings.bootstrap_token)
        catalog = Catalog(MongoCatalogStore(infra.db))
        await catalog.start()
        # Security incidents (oversight/): their own collection, so their announcements have their own relay.
        incident_store = MongoIncidentStore(infra.db)
        await incident_store.ensure_indexes()
        incident_relay = OutboxRelay(incident_store.collection, infra.publisher, interval_s=settings.relay_interval_s)
        incidents = Incidents(store=incident_store, outbox=incident_relay, people=AccountPeople(identity.users))
        index = TicketIndex(settings.index_path or None)
        metrics.index_collector.index = index
        wired = Adapters(
            store=store,
            outbox=relay,
            catalog=catalog,
            index=index,
            assets=NatsAssetDirectory(infra.broker, timeout_s=settings.asset_lookup_timeout_s),
            tags=MongoKnownTags(infra.db),
            authenticator=identity.authenticator,
            identity=identity,
            calendars=NatsBusinessCalendars(infra.broker, timeout_s=settings.asset_lookup_timeout_s),
            timers=NatsTimerDirectory(infra.broker, timeout_s=settings.asset_lookup_timeout_s),
            upstreams=settings.upstreams(),
            reopen_window=timedelta(days=settings.reopen_window_days),
            mail_service_code=settings.mail_service_code,
            upstream_client=upstream_client,
            minter=minter,
            handovers=MongoPendingHandovers(infra.db),
            guidance_window=timedelta(seconds=settings.guidance_window_s),
            standing=MongoStandingAuthorizations(infra.db),
            incidents=incidents,
        )
        # The index file as it was left, caught up from the events stream (or built from the database when it cannot
        # be: index_feed.py); /readyz stays false until then.
        feed = index_feed.IndexFeed(infra.broker, index=index, store=store)
        report = await feed.start(timeout_s=settings.index_catch_up_s)
        log.info("search index ready", extra={"fields": {
            "tickets": len(index), "built": report.built, "events": report.caught_up, "from_sequence": report.from_sequence,
            "reread": report.reread,
            **{f"{k}_s": v for k, v in report.seconds.items()},
        }})
        requester_notices = RequesterNotices(
            mailer=SmtpRequesterMailer(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender)
            if settings.smtp_host else None,
            sent=MongoSentNotices(infra.db),
            senders=AccountMailSenders(identity.users),
        )
        bus.register(infra.broker, desk=wired.desk, settings=settings, requester_notices=requester_notices)
        oversight_bus.register(infra.broker, incidents=incidents, max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s)
        reload = Periodic(lambda: index_feed.reconcile(index, store), interval_s=settings.index_reload_s, name="index-reconcile", delay_first=True)
        refresh = Periodic(catalog.refresh, interval_s=settings.catalog_refresh_s, name="catalog-refresh", delay_first=True)
        # Desk-first tickets whose guidance window ran out go to dispatch; due times are read from the database, so a
        # restart picks up where the last process stopped (handover.py).
        handovers = Periodic(
            lambda: handover.hand_over_due(desk=wired.desk, now=datetime.now(UTC)), interval_s=settings.handover_check_s,
            name="desk-handover",
        )
        relay.start()
        incident_relay.start()
        reload.start()
        refresh.start()
        handovers.start()
        try:
            async with live.running(infra.broker, store) as hub:
                app.state.live = hub  # read by live.http; None when the feed could not start
                yield wired
        finally:
            await handovers.stop()
            await reload.stop()
            await refresh.stop()
            await relay.stop()
            await incident_relay.stop()
            await feed.stop()
            await upstream_client.aclose()
            index.close()
            await store.close()  # the unissued ticket numbers of its block go back

    app = build_service_app(
        settings,
        title="Opsdesk gateway",
        description=(
            "The service desk API and the one base URL clients use. Tickets, the catalog, mail intake and identity "
            "are served here; /api/v1/{assets,relations,impact,audits,inspections,spares,loaners,repairs,labels,"
            "register,baselines,asset-types} route to assets, /api/v1/{kb,problems} to knowledge, "
            "/api/v1/{reports,forms} to reporting, /api/v1/{engineers,assignments,escalations} to dispatch and "
            "/api/v1/{timers,calendars,holidays} to the SLA monitor, each request with a token signed for that service "
            "naming the caller. The whole API as one document: /api/v1/openapi.json (signed in). Events are documented at /asyncapi.json."
        ),
        registry=metrics.registry,
        routers=[router, authorization_http.router, oversight_http.router, catalog_http.router, mail_http.router, identity_router(), live.router, *gateway_routers()],
        wire=wire,
        adapters=adapters,
        max_body_bytes=settings.max_body_bytes,
        # What the services behind accept in one body: a register import, a knowledge attachment, a raw mail.
        larger_bodies={"/api/v1/register/": 20 * 1024 * 1024, "/api/v1/kb/": 11 * 1024 * 1024, "/api/v1/inbound/email": 5 * 1024 * 1024},
        # The gateway authenticates people itself (users, API keys); the shared middleware only guards /metrics here.
        internal=False,
    )
    errors.install(app)
    oversight_http.install(app)
    # Pages of the web console (every path outside the API) come from the console service, when one is set.
    app.add_middleware(ConsoleProxy, base_url=settings.console_url)
    # Added last, so outermost: a path that walks out of its prefix never reaches routing.
    app.add_middleware(DotSegmentGuard)

    # Signed in, like the merged OpenAPI: it names the servers, subjects and security scheme of the bus.
    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of every event Opsdesk publishes (signed in)")
    async def asyncapi(_caller: Caller) -> JSONResponse:
        return JSONResponse(asyncapi_document())

    return app
