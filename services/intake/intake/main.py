"""Wiring: the one place that reads settings, opens Mongo and NATS, and hands adapters to the edges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from opsdesk_shared.app import build_service_app
from opsdesk_shared.asyncapi import asyncapi_document
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.runtime import Infra

from . import metrics
from .adapters.mongo import MongoTicketStore, MongoTokenStore
from .adapters.nats import NatsAssetDirectory, NatsBusinessCalendars, NatsTimerDirectory
from .auth import Authenticator, token_hash
from .domain import InvalidField
from .entrypoints import bus
from .entrypoints.http import router
from .settings import IntakeSettings
from .wiring import Adapters


def create_app(settings: IntakeSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        store = MongoTicketStore(infra.db)
        tokens = MongoTokenStore(infra.db)
        relay = OutboxRelay(store.collection, infra.publisher, interval_s=settings.relay_interval_s)
        await store.ensure_indexes()
        if settings.bootstrap_token:
            await tokens.ensure(token_hash(settings.bootstrap_token), role="admin", name="bootstrap")
        bus.register(infra.broker, store=store, settings=settings)
        relay.start()
        try:
            yield Adapters(
                store=store,
                outbox=relay,
                tokens=tokens,
                assets=NatsAssetDirectory(infra.broker, timeout_s=settings.asset_lookup_timeout_s),
                authenticator=Authenticator(tokens),
                calendars=NatsBusinessCalendars(infra.broker, timeout_s=settings.asset_lookup_timeout_s),
                timers=NatsTimerDirectory(infra.broker, timeout_s=settings.asset_lookup_timeout_s),
            )
        finally:
            await relay.stop()

    app = build_service_app(
        settings,
        title="Opsdesk gateway",
        description="Service desk API: tickets in, events out. Events are documented at /asyncapi.json.",
        registry=metrics.registry,
        routers=[router],
        wire=wire,
        adapters=adapters,
        max_body_bytes=settings.max_body_bytes,
    )

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of every event Opsdesk publishes")
    async def asyncapi() -> JSONResponse:
        return JSONResponse(asyncapi_document())

    @app.exception_handler(InvalidField)
    async def invalid_field(_: Request, exc: InvalidField) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": list(exc.loc), "msg": exc.msg, "type": "value_error"}]}, status_code=422)

    return app
