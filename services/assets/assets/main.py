"""Wiring for assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.runtime import Infra

from . import metrics
from .adapters.mongo import MongoAssetRegister, MongoRepairStore
from .domain import DEMO_REGISTER
from .entrypoints import bus
from .entrypoints.http import router
from .ports import AssetRegister, EventOutbox, RepairStore
from .settings import AssetsSettings


@dataclass
class Adapters:
    register: AssetRegister
    repairs: RepairStore
    outbox: EventOutbox


def create_app(settings: AssetsSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        register = MongoAssetRegister(infra.db)
        repairs = MongoRepairStore(infra.db)
        relay = OutboxRelay(repairs.collection, infra.publisher, interval_s=settings.relay_interval_s)
        await repairs.ensure_indexes()
        if settings.seed_demo:
            await register.seed(DEMO_REGISTER)
        bus.register(infra.broker, assets=register)
        relay.start()
        try:
            yield Adapters(register=register, repairs=repairs, outbox=relay)
        finally:
            await relay.stop()

    return build_service_app(
        settings,
        title="Opsdesk assets",
        description="Asset register and repair records.",
        registry=metrics.registry,
        routers=[router],
        wire=wire,
        adapters=adapters,
    )
