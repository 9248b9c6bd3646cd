"""The web console at the gateway's origin: every path outside the API goes to the console service, streamed.

The console is a client of the public API (it calls /api/v1 with the signed-in user's bearer token); serving its
pages from this origin makes its cookies same-site and SameSite=Strict workable. Paths the gateway answers itself
(/api/..., /docs, /redoc, /openapi.json, /asyncapi.json, /healthz, /readyz, /metrics) never reach it. Responses are
streamed through unbuffered, so the console's server-sent events (/events) pass as they come. Without
INTAKE_CONSOLE_URL nothing is proxied.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OWN_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/asyncapi.json", "/healthz", "/readyz", "/metrics")
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade",
    "host", "content-length",
})


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
            self.client = httpx.AsyncClient(timeout=self.timeout, cookies=no_cookie_jar())
        await self._forward(scope, receive, send)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.decode("latin-1").lower() not in HOP_BY_HOP]
        client = scope.get("client")
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        headers += [("x-forwarded-proto", scope.get("scheme", "http")), ("x-forwarded-host", host)]
        if client:
            headers.append(("x-forwarded-for", client[0]))
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
        try:
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": reply.status_code, "headers": out})
            async for chunk in reply.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (httpx.HTTPError, OSError):
            pass  # the browser or the console went away mid-stream
        finally:
            await reply.aclose()


async def _plain(send: Send, status: int, text: bytes) -> None:
    start: Message = {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
    await send(start)
    await send({"type": "http.response.body", "body": text})
