"""The FastAPI shell every service shares: lifespan around its wiring, ops endpoints and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from .internal_auth import InternalAuthMiddleware, TokenVerifier
from .observability import BodySizeLimitMiddleware, CorrelationIdMiddleware, RequestMetricsMiddleware, ops_router
from .offload import BudgetExceeded
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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if adapters is not None:
            app.state.adapters = adapters
            yield
            return
        async with open_infra(settings) as infra, wire(infra) as wired:
            state["infra"] = infra
            app.state.adapters = wired
            await infra.broker.start()
            try:
                yield
            finally:
                state.pop("infra", None)

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)

    async def db_ready() -> bool:
        infra = state.get("infra")
        return infra is not None and await infra.db_ready()

    async def bus_ready() -> bool:
        infra = state.get("infra")
        return infra is not None and await infra.bus_ready()

    for router in routers:
        app.include_router(router)

    @app.exception_handler(BudgetExceeded)
    async def over_budget(_request: Request, exc: BudgetExceeded) -> JSONResponse:
        # Work that overran its time budget (see offload.py): the service is fine, this answer is not ready.
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "30"})

    app.include_router(ops_router(registry=registry, checks={"database": db_ready, "nats": bus_ready}))
    verifier = TokenVerifier(settings.internal_public_key, audience=settings.service_name) if settings.internal_public_key.strip() else None
    app.add_middleware(InternalAuthMiddleware, verifier=verifier, metrics_token=settings.metrics_token, internal=internal)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes, larger=larger_bodies)
    app.add_middleware(CorrelationIdMiddleware)
    app.add_middleware(RequestMetricsMiddleware, service=settings.service_name)
    return app
