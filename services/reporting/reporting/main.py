"""Wiring for reporting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.audit_http import audit_router
from opsdesk_shared.periodic import Periodic
from opsdesk_shared.readiness import StartupPhases
from opsdesk_shared.runtime import Infra
from opsdesk_shared.snapshot import Snapshots

from . import generation, metrics, service
from .adapters.delivery import ReportDelivery
from .adapters.mongo import MongoGenerations, MongoReportStore
from .adapters.nats import NatsArticleSource, StreamSource
from .adapters.tally_checkpoint import CheckpointedEventProjection
from .entrypoints import bus
from .entrypoints.http import router
from .entrypoints.refusals import install_errors
from .rebuild import Projection
from .scheduler import ReportScheduler
from .settings import ReportingSettings
from .wiring import Adapters, memory_adapters

__all__ = ["Adapters", "create_app", "memory_adapters"]

log = logging.getLogger(__name__)
TALLY_CHECKPOINT_S = 60.0  # how often the tally's counts are snapshotted (a crash's restart reads the tail since: a minute or two)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(settings: ReportingSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        phases = StartupPhases()
        projection = CheckpointedEventProjection(infra.db, Snapshots(infra.db["snapshots"]))
        await projection.ensure_indexes()
        tally = await service.rebuild_tally(projection=projection)  # the tally's snapshot (adapters/tally_checkpoint)
        phases("tally")
        generations = MongoGenerations(infra.db)
        active = await generations.active()
        models = generations.models(active)
        holder = Projection(models=models, generation=active, live=await service.load_live(models, now=_utcnow()))
        delivery = None
        if settings.webhook_urls or settings.email_to:
            delivery = ReportDelivery(webhook_urls=settings.webhook_urls, email_to=settings.email_to, smtp_host=settings.smtp_host,
                                      smtp_port=settings.smtp_port, sender=settings.smtp_sender, download_base=settings.download_base)
        wired = Adapters(projection=projection, tally=tally, settings=settings, holder=holder, reports=MongoReportStore(infra.db, audit_key=settings.audit_key_bytes),
                         publisher=infra.publisher, generations=generations, source=StreamSource(infra.broker), delivery=delivery,
                         articles=NatsArticleSource(infra.broker, timeout_s=settings.articles_timeout_s))
        metrics.tally_collector.tally = tally
        metrics.live_collector.holder = holder
        async def major_incident_report(ticket: dict[str, Any]) -> object:
            return await generation.generate_major_incident(
                ticket, store=wired.reports, publisher=wired.publisher, delivery=delivery, lang=settings.report_langs[0] if settings.report_langs else "zh-CN",
                now=datetime.now(UTC), parties=settings.parties(),
            )

        bus.register(infra.broker, projection=projection, tally=tally, holder=holder, settings=settings,
                     on_major_incident_resolved=major_incident_report)
        scheduler = ReportScheduler(
            models=lambda: holder.models, store=wired.reports, publisher=wired.publisher, delivery=delivery,
            langs=tuple(settings.report_langs), interval_s=settings.schedule_interval_s,
            settle=timedelta(minutes=settings.settle_minutes), parties=settings.parties(),
        )
        if settings.schedule_enabled:
            scheduler.start()
        checkpoints = Periodic(projection.checkpoint, interval_s=TALLY_CHECKPOINT_S, name="tally-checkpoint", delay_first=True)
        checkpoints.start()
        phases("rest")
        phases.log(log, tally=projection.loaded_from, keys=len(tally.counts))
        warm = asyncio.create_task(generation.warm_up(), name="reporting-warm-up")
        wired.tasks.add(warm)
        warm.add_done_callback(wired.tasks.discard)
        try:
            yield wired
        finally:
            await checkpoints.stop()
            try:
                await projection.checkpoint(final=True)  # the next start reads this snapshot and nothing else
            except Exception:
                log.exception("final tally checkpoint failed; the next start reads the last epoch's events")
            await scheduler.stop()
            for task in list(wired.tasks):
                task.cancel()

    if adapters is not None:
        metrics.tally_collector.tally = adapters.tally
        metrics.live_collector.holder = adapters.holder
    app = build_service_app(
        settings,
        title="Opsdesk reporting",
        description="Event projections, the contract's periodic reports (JSON, XLSX, PDF), printable forms and metrics.",
        registry=metrics.registry,
        routers=[router, audit_router(lambda wired: [wired.reports])],
        wire=wire,
        adapters=adapters,
    )
    install_errors(app)
    return app
