"""Wiring for reporting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.runtime import Infra

from . import metrics, service
from .adapters.mongo import MongoEventProjection
from .domain import Tally
from .entrypoints import bus
from .entrypoints.http import router
from .ports import EventProjection
from .settings import ReportingSettings


@dataclass
class Adapters:
    projection: EventProjection
    tally: Tally


def create_app(settings: ReportingSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        projection = MongoEventProjection(infra.db)
        await projection.ensure_indexes()
        tally = await service.rebuild_tally(projection=projection)
        metrics.tally_collector.tally = tally
        bus.register(infra.broker, projection=projection, tally=tally, settings=settings)
        yield Adapters(projection=projection, tally=tally)

    if adapters is not None:
        metrics.tally_collector.tally = adapters.tally
    return build_service_app(
        settings,
        title="Opsdesk reporting",
        description="Event projections, counters and reports.",
        registry=metrics.registry,
        routers=[router],
        wire=wire,
        adapters=adapters,
    )
