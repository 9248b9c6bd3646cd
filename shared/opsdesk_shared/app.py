"""The FastAPI shell every service shares: lifespan around its wiring, ops endpoints and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from . import errors, localtime
from .deadletters import bind_replays
from .internal_auth import InternalAuthMiddleware, TokenVerifier
from .localtime import LocalTimeMiddleware
from .observability import BodySizeLimitMiddleware, CorrelationIdMiddleware, RequestMetricsMiddleware, ops_router
from .readiness import ConsumersBound, Started
from .runtime import Infra, open_infra
from .settings import ServiceSettings

# The service's wiring: given open infrastructure, build adapters, register bus handlers, yield the adapters.
Wire = Callable[[Infra], AbstractAsyncContextManager[Any]]


def build_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    registry: CollectorRegistry,
    routers: Sequence[APIRouter],
    wire: Wire,
    adapters: Any = None,
    max_body_bytes: int = 64 * 1024,
    larger_bodies: Mapping[str, int] | None = None,
    internal: bool = True,
) -> FastAPI:
    """With `adapters` (tests) the app runs on them and opens no connections; else `wire` builds them in the lifespan."""
    state: dict[str, Infra] = {}
    # /readyz is true only once views are loaded and consumers bound (readiness.py), not merely when servers answer.
    started, consumers_bound = Started(), ConsumersBound()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if adapters is not None:
            app.state.adapters = adapters
            yield
            return
        async with open_infra(settings) as infra, wire(infra) as wired:
            state["infra"] = infra
            app.state.adapters = wired
            # For operator routes that read the bus itself (the gateway's dead-letter admin API).
            app.state.broker, app.state.db = infra.broker, infra.db
            await bind_replays(infra.broker, service=settings.service_name)
            await infra.broker.start()
            consumers_bound.broker = infra.broker
            started.done = True
            try:
                yield
            finally:
                started.done = False
                state.pop("infra", None)

    localtime.configure(settings.timezone)
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)

    async def db_ready() -> bool:
        infra = state.get("infra")
        return infra is not None and await infra.db_ready()

    async def bus_ready() -> bool:
        infra = state.get("infra")
        return infra is not None and await infra.bus_ready()

    for router in routers:
        app.include_router(router)

    # One error shape in the caller's language (errors.py), so the gateway passes routed errors through unchanged.
    errors.install(app)

    app.include_router(ops_router(registry=registry, checks={"database": db_ready, "nats": bus_ready, "views": started, "consumers": consumers_bound}))
    verifier = TokenVerifier(settings.internal_public_key, audience=settings.service_name) if settings.internal_public_key.strip() else None
    app.add_middleware(InternalAuthMiddleware, verifier=verifier, metrics_token=settings.metrics_token, internal=internal)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes, larger=larger_bodies)
    app.add_middleware(CorrelationIdMiddleware)
    app.add_middleware(RequestMetricsMiddleware, service=settings.service_name)
    # Outermost: every JSON answer, errors and 413s included, shows times with the site's offset (localtime.py).
    app.add_middleware(LocalTimeMiddleware)
    return app
