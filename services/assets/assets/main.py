"""Wiring for assets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from opsdesk_shared.app import build_service_app
from opsdesk_shared.audit_http import audit_router
from opsdesk_shared.observability import BodySizeLimitMiddleware
from opsdesk_shared.outbox import OutboxRelay
from opsdesk_shared.periodic import Periodic
from opsdesk_shared.readiness import StartupPhases
from opsdesk_shared.runtime import Infra
from opsdesk_shared.snapshot import Snapshots

from . import metrics, service_ops
from .adapters.audit import SealedMongoAssetRegister, SealedMongoRepairStore
from .adapters.memory import MemoryDocs
from .adapters.mongo import MongoDocs
from .domain import DEMO_REGISTER, DEMO_STOCK
from .entrypoints import bus, errors, http_cmdb, http_ops
from .entrypoints.http import router
from .ports import AssetRegister, Docs, EventOutbox, RepairStore
from .service_graph import RelationGraph
from .settings import AssetsSettings

log = logging.getLogger(__name__)

DEFAULT_BODY_BYTES = 64 * 1024
# Ticket mappings kept in memory (a few hundred bytes each): the open tickets of a busy month.
LINKS_REMEMBERED = 20_000
IMPORT_PATH = "/api/v1/register/import"


@dataclass
class Adapters:
    """Everything the edges need. Defaults beyond the first three are in-memory, for tests."""

    register: AssetRegister
    repairs: RepairStore
    outbox: EventOutbox
    types: Docs = field(default_factory=MemoryDocs)
    relations: Docs = field(default_factory=MemoryDocs)
    graph_log: Docs = field(default_factory=MemoryDocs)
    meta: Docs = field(default_factory=MemoryDocs)
    baselines: Docs = field(default_factory=MemoryDocs)
    audits: Docs = field(default_factory=MemoryDocs)
    inspections: Docs = field(default_factory=MemoryDocs)
    inspection_index: Docs = field(default_factory=MemoryDocs)
    spares: Docs = field(default_factory=MemoryDocs)
    loans: Docs = field(default_factory=MemoryDocs)
    links: Docs = field(default_factory=MemoryDocs)
    imports: Docs = field(default_factory=MemoryDocs)
    spare_issues: Docs = field(default_factory=MemoryDocs)
    # Completions whose stock parts could not all be issued, keyed by the assignment.completed event id (parts_used).
    spare_refusals: Docs = field(default_factory=MemoryDocs)
    repair_clocks: Docs = field(default_factory=MemoryDocs)
    # The agency's oversight (oversight.py): tickets it authorized, by the asset they name; violations announced.
    authorized_tickets: Docs = field(default_factory=MemoryDocs)
    security_violations: Docs = field(default_factory=MemoryDocs)
    graph: RelationGraph | None = None
    tag_prefix: str = "GZ"
    tag_pattern: str = "{prefix}-{year}-{seq:06d}"

    def __post_init__(self) -> None:
        if self.graph is None:
            self.graph = RelationGraph(relations=self.relations, log=self.graph_log, meta=self.meta)


class _BodyLimits:
    """The usual 64 KiB body limit everywhere but the register import, which takes files."""

    def __init__(self, app: ASGIApp, *, import_max: int) -> None:
        self.small = BodySizeLimitMiddleware(app, max_bytes=DEFAULT_BODY_BYTES)
        self.large = BodySizeLimitMiddleware(app, max_bytes=import_max)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limited = self.large if scope["type"] == "http" and scope["path"] == IMPORT_PATH else self.small
        await limited(scope, receive, send)


def create_app(settings: AssetsSettings, adapters: Adapters | None = None) -> FastAPI:
    if adapters is not None:
        adapters.tag_prefix, adapters.tag_pattern = settings.tag_prefix, settings.tag_pattern

    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        phases = StartupPhases()
        db, pub, interval = infra.db, infra.publisher, settings.relay_interval_s
        register = SealedMongoAssetRegister(db, pub, relay_interval_s=interval, audit_key=settings.audit_key_bytes)
        repairs = SealedMongoRepairStore(db, audit_key=settings.audit_key_bytes)
        relay = OutboxRelay(repairs.collection, pub, interval_s=interval)
        docs: dict[str, MongoDocs] = {
            # A ticket's mappings are read and rewritten by each of its events: remembered (issue 17).
            name: MongoDocs(db[name], pub if evented else None, relay_interval_s=interval,
                            remember=LINKS_REMEMBERED if name == "asset_links" else 0)
            for name, evented in (
                ("asset_types", False), ("relations", False), ("graph_log", True), ("meta", False), ("baselines", False),
                ("audits", True), ("inspections", True), ("inspection_index", False), ("spares", True), ("loans", True),
                ("asset_links", False), ("imports", True), ("spare_issues", False), ("repair_clocks", False),
                ("spare_refusals", True), ("authorized_tickets", False), ("security_violations", True),
            )
        }
        await repairs.ensure_indexes()
        await register.ensure_search_keys()
        if settings.seed_demo:
            await register.seed(DEMO_REGISTER)
        wired = Adapters(
            register=register, repairs=repairs, outbox=relay, types=docs["asset_types"], relations=docs["relations"],
            graph_log=docs["graph_log"], meta=docs["meta"], baselines=docs["baselines"], audits=docs["audits"],
            inspections=docs["inspections"], inspection_index=docs["inspection_index"], spares=docs["spares"],
            loans=docs["loans"], links=docs["asset_links"], imports=docs["imports"], spare_issues=docs["spare_issues"],
            repair_clocks=docs["repair_clocks"], spare_refusals=docs["spare_refusals"],
            authorized_tickets=docs["authorized_tickets"], security_violations=docs["security_violations"],
            tag_prefix=settings.tag_prefix, tag_pattern=settings.tag_pattern,
        )
        if settings.seed_demo:
            await service_ops.seed_stock(DEMO_STOCK, spares=wired.spares)
        graph = wired.graph
        assert graph is not None
        phases("wiring")
        snapshots = Snapshots(db["snapshots"])
        how = await graph.start_up(register=register, types=wired.types, snapshots=snapshots)
        metrics.graph_load_seconds.set(graph.loaded_in_s)
        metrics.graph_relations.set(graph.index.relations)
        phases(f"graph_{how}")
        snapshot_at = time.monotonic()

        async def follow() -> None:
            nonlocal snapshot_at
            await graph.sync()
            metrics.graph_relations.set(graph.index.relations)
            if graph.version != graph.snapshot_version and time.monotonic() - snapshot_at >= settings.graph_snapshot_s:
                snapshot_at = time.monotonic()
                await graph.save_snapshot(snapshots)

        async def reconcile() -> None:
            # After readiness: the snapshot plus the log is the index; a full load checks it against the database.
            try:
                await graph.reconcile(snapshots)
            except Exception:
                log.exception("graph reconcile failed; the next restart or reload loads in full")

        syncer = Periodic(follow, interval_s=settings.graph_sync_s, name="assets-graph-sync")
        bus.register(infra.broker, assets=register, links=wired.links, repairs=repairs, graph=graph, settings=settings,
                     repair_clocks=wired.repair_clocks, authorized=wired.authorized_tickets,
                     spare_docs=bus.SpareDocs(spares=wired.spares, issues=wired.spare_issues, outcomes=wired.spare_refusals))
        relays: list[Any] = [relay, *(d.relay for d in (register.docs, *docs.values()) if d.relay is not None)]
        for r in relays:
            r.start()
        syncer.start()
        phases("rest")
        phases.log(log, load=how, relations=graph.index.relations, items=len(graph.index.nodes))
        checking = asyncio.create_task(reconcile(), name="assets-graph-reconcile") if how == "snapshot" else None
        try:
            yield wired
        finally:
            if checking is not None:
                checking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checking
            await syncer.stop()
            for r in relays:
                await r.stop()

    app = build_service_app(
        settings,
        title="Opsdesk assets",
        description="CMDB: the asset register with types, tags, versions and relations; impact analysis; baselines; "
        "audits, inspections, spare parts, loaners and repairs.",
        registry=metrics.registry,
        routers=[router, http_cmdb.router, http_ops.router, audit_router(lambda wired: [wired.repairs, wired.register])],
        wire=wire,
        adapters=adapters,
        max_body_bytes=http_cmdb.MAX_IMPORT_BYTES + 64 * 1024,
    )
    app.add_middleware(_BodyLimits, import_max=http_cmdb.MAX_IMPORT_BYTES + 64 * 1024)
    errors.install(app)  # after the shared handlers: the CMDB's refusals said in the caller's language
    return app
