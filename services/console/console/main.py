"""Wiring: settings, the API client and the templates, handed to the pages; nothing connects at import time."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import Gateway
from .pages import admin, agency, auth, calls, cmdb, desk, engineer, events, home, kb, manager, notices, portal, tickets
from .session import SessionSealer
from .settings import ConsoleSettings
from .web import STATIC, Console, SignInRequired, context, environment

log = logging.getLogger(__name__)


def create_app(settings: ConsoleSettings, client: httpx.AsyncClient | None = None) -> FastAPI:
    """`client` (tests) talks to the gateway however the test likes; else one is opened in the lifespan."""
    secret = settings.session_secret
    if not secret:
        log.warning("CONSOLE_SESSION_SECRET is not set; using a random one, so sessions end with this process")
        secret = secrets.token_urlsafe(48)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = client is None
        # No cookie jar: the one client serves every signed-in person, so nothing may be remembered between calls.
        # No cap on connections: every open /events page holds one to the gateway for as long as it stays open (httpx's
        # default of 100 left the 101st console waiting, then failing); the gateway caps streams per user and in total.
        http = client or httpx.AsyncClient(base_url=settings.gateway_url, timeout=settings.api_timeout_s,
                                           cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
                                           limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
        app.state.console = Console(settings, Gateway(http), SessionSealer(secret), ZoneInfo(settings.timezone), environment())
        try:
            yield
        finally:
            if own:
                await http.aclose()

    app = FastAPI(title="Opsdesk console", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    for module in (auth, home, desk, tickets, calls, events, engineer, portal, kb, manager, agency, admin, cmdb, notices):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/manifest.webmanifest", include_in_schema=False)
    async def manifest(request: Request) -> Response:
        """The web app manifest (installable on a phone), named in the person's language."""
        ctx = context(request)
        body = {
            "name": ctx.gettext("Opsdesk"), "short_name": ctx.gettext("Opsdesk"), "lang": ctx.lang, "start_url": "/",
            "scope": "/", "display": "standalone", "orientation": "portrait", "background_color": "#f6f7f9",
            "theme_color": "#13294b", "description": ctx.gettext("My assignments, my tickets and the desk's queues"),
            "icons": [
                {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
                {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
            ],
        }
        return JSONResponse(body, media_type="application/manifest+json", headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/sw.js", include_in_schema=False)
    async def service_worker() -> Response:
        """A small service worker at the root (its scope is the whole console): keeps the shell for a slow network."""
        return Response((STATIC / "sw.js").read_bytes(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ready"})

    @app.exception_handler(SignInRequired)
    async def to_login(request: Request, _exc: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def page_error(request: Request, exc: HTTPException) -> Response:
        ctx = context(request)
        return ctx.render("error.html", status_code=exc.status_code, message=ctx.gettext(str(exc.detail)))

    # A plain ASGI middleware, not @app.middleware("http"): Starlette's BaseHTTPMiddleware keeps a streaming
    # response's disconnect from the endpoint, so a browser that left kept its /events relay (and the person's
    # upstream event stream at the gateway) open.
    app.add_middleware(SecurityHeaders)
    return app


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"),
)


class SecurityHeaders:
    """Adds the console's security headers to every response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
