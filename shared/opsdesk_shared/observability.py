"""Health, readiness, metrics and correlation ids for every service's HTTP edge."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body, language_of
from .logs import correlation_id

ReadinessCheck = Callable[[], Awaitable[bool]]
CORRELATION_HEADER = "x-correlation-id"

# Metrics every service has under the same names and labels, exported beside the service's own registry.
SHARED_REGISTRY = CollectorRegistry()
http_request_duration = Histogram(
    "http_request_duration_seconds", "HTTP requests by route template and status", ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=SHARED_REGISTRY,
)
events_handled = Histogram(
    "events_handled_seconds", "Bus event handling time by subject and outcome (ok, retry, failed, invalid)",
    ["service", "subject", "outcome"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5), registry=SHARED_REGISTRY,
)


def ops_router(*, registry: CollectorRegistry, checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: NATS and the database answer")
    async def readyz() -> JSONResponse:
        results = {name: await check() for name, check in checks.items()}
        ok = all(results.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": results}, status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(registry) + generate_latest(SHARED_REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


class CorrelationIdMiddleware:
    """Takes X-Correlation-ID from the request (or makes one), exposes it to logs and events, echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(CORRELATION_HEADER.encode())
        cid = incoming.decode("latin-1")[:128] if incoming else str(uuid.uuid4())
        token = correlation_id.set(cid)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), cid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            correlation_id.reset(token)


class RequestMetricsMiddleware:
    """Times every HTTP request into http_request_duration_seconds, labelled by the route template (not the raw path)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            http_request_duration.labels(self.service, scope.get("method", ""), route, str(status)).observe(
                time.perf_counter() - started
            )


class BodySizeLimitMiddleware:
    """Refuses bodies over a limit with 413, whether or not the client sent Content-Length. `larger` raises the limit
    for paths under given prefixes (an asset register import, a knowledge attachment through the gateway)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def limit_for(self, path: str) -> int:
        return max((limit for prefix, limit in self.larger.items() if path.startswith(prefix)), default=self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(_detail(limit))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        # The services' one error shape, in the caller's language (errors.py).
        header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        response = JSONResponse(error_body(413, lang=language_of(header), detail=_detail(limit)), status_code=413)
        await response({"type": "http"}, _empty_receive, send)


def _detail(limit: int) -> list[dict[str, object]]:
    return [{"loc": ["body"], "msg": f"request body exceeds {limit} bytes", "type": "too_large"}]


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through as a 413 instead of answering 400."""

    def __init__(self, detail: list[dict[str, object]]) -> None:
        super().__init__(status_code=413, detail=detail)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}
