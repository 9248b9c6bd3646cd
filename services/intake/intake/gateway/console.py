"""The web console at the gateway's origin: every path outside the API goes to the console service, streamed.

The console is a client of the public API (it calls /api/v1 with the signed-in user's bearer token); serving its
pages from this origin makes its cookies same-site and SameSite=Strict workable. Paths the gateway answers itself
(/api/..., /docs, /redoc, /openapi.json, /asyncapi.json, /healthz, /readyz, /metrics) never reach it. Responses are
streamed through unbuffered, so the console's server-sent events (/events) pass as they come. Without
INTAKE_CONSOLE_URL nothing is proxied. The browser's address goes to the console as X-Forwarded-For and as the
gateway's own stamp (X-Opsdesk-Client-Address), which the console's sign-in call carries back so the login throttle
counts each browser apart (identity/client_address.py); a browser's own copies of these headers are dropped.
"""

from __future__ import annotations

import asyncio
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..identity.client_address import HEADER as CLIENT_ADDRESS_HEADER
from ..identity.client_address import ClientAddresses

OWN_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/asyncapi.json", "/healthz", "/readyz", "/metrics")
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade",
    "host", "content-length",
})


# Headers only this proxy sets: a browser's own copies are dropped (a spoofed X-Forwarded-For or address stamp).
BROWSER_MAY_NOT_SAY = ("x-forwarded-", "forwarded", "x-real-ip", CLIENT_ADDRESS_HEADER)


def _stamper(scope: Scope) -> ClientAddresses | None:
    """The identity's address stamper, from the app's wiring (set in its lifespan); None when there is none."""
    app = scope.get("app")
    adapters = getattr(getattr(app, "state", None), "adapters", None)
    identity = getattr(adapters, "identity", None)
    found = getattr(identity, "client_addresses", None)
    return found if isinstance(found, ClientAddresses) else None


def no_cookie_jar() -> CookieJar:
    """A jar that keeps nothing: a shared client must never store one person's Set-Cookie and send it for another."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def proxied(path: str) -> bool:
    return not (path == "/api" or any(path == p or path.startswith(p) for p in OWN_PREFIXES))


class ConsoleProxy:
    def __init__(self, app: ASGIApp, base_url: str = "", timeout_s: float = 15.0) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_s, read=None)  # a stream may stay open for hours
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.base_url or not proxied(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if self.client is None:
            # No cap on connections: each open console page's event stream holds one for as long as it is open
            # (httpx's default of 100 made the 101st browser wait, then fail); the live stream caps users and total.
            self.client = httpx.AsyncClient(timeout=self.timeout, cookies=no_cookie_jar(),
                                            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
        await self._forward(scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        # What the browser says about its address or scheme is dropped: only what this proxy saw is passed on.
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
            if (name := k.decode("latin-1").lower()) not in HOP_BY_HOP and not name.startswith(BROWSER_MAY_NOT_SAY)
        ]
        client = scope.get("client")
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        headers += [("x-forwarded-proto", scope.get("scheme", "http")), ("x-forwarded-host", host)]
        if client:
            headers.append(("x-forwarded-for", client[0]))
            stamp = _stamper(scope)
            if stamp is not None:
                # The console relays this with its sign-in call; the throttle then counts by the browser's address.
                headers.append((CLIENT_ADDRESS_HEADER, stamp.stamp(client[0])))
        url = self.base_url + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        assert self.client is not None
        request = self.client.build_request(scope["method"], url, headers=headers, content=body)
        try:
            reply = await self.client.send(request, stream=True)
        except httpx.HTTPError:
            await _plain(send, 502, b"the console is not reachable")
            return
        async def pump() -> None:
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": reply.status_code, "headers": out})
            async for chunk in reply.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def left() -> None:
            # The server drops writes to a browser that went away without telling us; only receive() says so. Without
            # this a stream (the console's /events) outlived every page a person left, each holding an event stream.
            while (await receive())["type"] != "http.disconnect":
                pass

        pumping, watching = asyncio.create_task(pump()), asyncio.create_task(left())
        try:
            await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
            failed = pumping.exception() if pumping.done() and not pumping.cancelled() else None
            if failed is not None and not isinstance(failed, (httpx.HTTPError, OSError)):
                raise failed  # else: the console went away mid-stream, or nothing failed
        finally:
            for task in (pumping, watching):
                task.cancel()
            await asyncio.gather(pumping, watching, return_exceptions=True)
            await reply.aclose()


async def _plain(send: Send, status: int, text: bytes) -> None:
    start: Message = {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
    await send(start)
    await send({"type": "http.response.body", "body": text})
