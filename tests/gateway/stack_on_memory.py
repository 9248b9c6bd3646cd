"""The gateway and every service behind it as apps on memory adapters, joined in-process: the gateway's upstream
client reaches each service's ASGI app by host name, with the internal tokens the gateway mints for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI


class HostRouter(httpx.AsyncBaseTransport):
    """Sends each request to the app of its host (`http://<service>.test`)."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.transports = {name: httpx.ASGITransport(app=app) for name, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.host.removesuffix(".test"))
        if transport is None:
            return httpx.Response(503)
        return await transport.handle_async_request(request)


def service_apps() -> dict[str, FastAPI]:
    """Each service's own app (create_app) on its memory adapters, as its edge tests build it."""
    from assets.adapters.memory import MemoryAssetRegister, MemoryRepairStore
    from assets.main import Adapters as AssetsAdapters
    from assets.main import create_app as assets_app
    from assets.settings import AssetsSettings
    from dispatch.adapters.memory import MemoryAssignmentStore, MemoryRoster
    from dispatch.main import Adapters as DispatchAdapters
    from dispatch.main import create_app as dispatch_app
    from dispatch.settings import DispatchSettings
    from knowledge.main import create_app as knowledge_app
    from knowledge.main import memory_adapters as knowledge_memory
    from knowledge.settings import KnowledgeSettings
    from opsdesk_shared.outbox import MemoryOutbox
    from reporting.adapters.memory import MemoryEventSource, MemoryPublisher
    from reporting.main import create_app as reporting_app
    from reporting.main import memory_adapters as reporting_memory
    from reporting.settings import ReportingSettings
    from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryTimerStore
    from sla_monitor.main import Adapters as SlaAdapters
    from sla_monitor.main import create_app as sla_app
    from sla_monitor.settings import SlaSettings

    knowledge_settings = KnowledgeSettings(environment="test")
    reporting_settings = ReportingSettings()
    return {
        "assets": assets_app(AssetsSettings(), adapters=AssetsAdapters(
            register=MemoryAssetRegister(), repairs=MemoryRepairStore(), outbox=MemoryOutbox())),
        "dispatch": dispatch_app(DispatchSettings(environment="test"), adapters=DispatchAdapters(
            roster=MemoryRoster([]), assignments=MemoryAssignmentStore(), outbox=MemoryOutbox())),
        "knowledge": knowledge_app(knowledge_settings, adapters=knowledge_memory(knowledge_settings)),
        "reporting": reporting_app(reporting_settings, adapters=reporting_memory(
            reporting_settings, source=MemoryEventSource(), publisher=MemoryPublisher(), clock=lambda: datetime.now(UTC))),
        "sla-monitor": sla_app(SlaSettings(), adapters=SlaAdapters(
            store=MemoryTimerStore(), outbox=MemoryOutbox(), calendars=MemoryCalendarStore(), book=None)),  # type: ignore[arg-type]
    }


@asynccontextmanager
async def gateway_client(*, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway (intake on memory adapters) whose routes reach the services' apps; `admin_key` signs in."""
    from intake.adapters.memory import MemoryAssetDirectory, MemoryCatalogStore, MemoryOutbox, MemoryTicketStore
    from intake.catalog_cache import Catalog
    from intake.identity import memory_identity
    from intake.identity.domain import key_hash
    from intake.main import create_app
    from intake.settings import IntakeSettings
    from intake.wiring import Adapters
    from opsdesk_shared.internal_auth_testing import test_keypair

    apps = service_apps()
    identity = memory_identity(jwt_secret="gateway-coverage-" + "s" * 40)
    await identity.keys.ensure(key_hash(admin_key), name="coverage", role="admin", now=datetime.now(UTC))
    catalog = Catalog(MemoryCatalogStore())
    await catalog.start()
    async with AsyncExitStack() as stack:
        upstream = await stack.enter_async_context(httpx.AsyncClient(transport=HostRouter(apps)))
        adapters = Adapters(
            store=MemoryTicketStore(), outbox=MemoryOutbox(), catalog=catalog, assets=MemoryAssetDirectory({}),
            authenticator=identity.authenticator, identity=identity,
            upstreams={name: f"http://{name}.test" for name in apps}, upstream_client=upstream,
        )
        app = create_app(IntakeSettings(environment="test", internal_signing_key=test_keypair()[0]), adapters=adapters)
        await stack.enter_async_context(app.router.lifespan_context(app))
        yield await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        )

