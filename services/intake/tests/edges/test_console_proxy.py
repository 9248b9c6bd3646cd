"""The gateway's console proxy: pages outside the API go to the console, the API and the gateway's own pages never
do, bodies stream through, and one person's cookie is never kept for another."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, StreamingResponse

from intake.gateway.console import ConsoleProxy, proxied


def test_api_and_gateway_pages_are_not_proxied() -> None:
    assert not proxied("/api/v1/tickets") and not proxied("/api") and not proxied("/docs") and not proxied("/healthz")
    assert not proxied("/asyncapi.json") and not proxied("/metrics") and not proxied("/openapi.json")
    assert proxied("/") and proxied("/login") and proxied("/tickets/INC-2026-000001") and proxied("/static/console.css")
    assert proxied("/events")


def _console() -> FastAPI:
    console = FastAPI()

    @console.get("/login")
    async def login(request: Request) -> PlainTextResponse:
        seen = request.cookies.get("opsdesk_session", "none")
        reply = PlainTextResponse(f"cookie={seen} fwd={request.headers.get('x-forwarded-proto')}")
        reply.set_cookie("opsdesk_session", "alice-secret")
        return reply

    @console.get("/events")
    async def events() -> StreamingResponse:
        async def gen():  # type: ignore[no-untyped-def]
            for i in range(3):
                yield f"id: {i}\ndata: x\n\n".encode()

        return StreamingResponse(gen(), media_type="text/event-stream")

    return console


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    inner = FastAPI()

    @inner.get("/api/v1/ping")
    async def ping() -> PlainTextResponse:
        return PlainTextResponse("gateway")

    console = _console()
    real_client = httpx.AsyncClient

    def client_to_console(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("transport", httpx.ASGITransport(app=console))  # the proxy's own client gives none
        return real_client(**kwargs)

    monkeypatch.setattr("intake.gateway.console.httpx.AsyncClient", client_to_console)
    inner.add_middleware(ConsoleProxy, base_url="http://console.test")
    return inner


async def test_pages_proxied_and_no_cookie_kept_between_people(gateway: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as alice:
        first = await alice.get("/login")
        assert first.status_code == 200 and "cookie=none" in first.text and "fwd=http" in first.text
        assert first.cookies.get("opsdesk_session") == "alice-secret"
        assert (await alice.get("/api/v1/ping")).text == "gateway"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as bob:
        # Bob sends no cookie: the proxy must not replay Alice's.
        assert "cookie=none" in (await bob.get("/login")).text


async def test_event_stream_passes_through(gateway: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
        reply = await client.get("/events")
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert reply.text.count("data: x") == 3


async def test_a_stream_ends_when_the_browser_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server drops writes to a browser that left; the proxy hears it from receive() and closes the console's
    stream (else every page a person left kept an event stream open, and live updates stopped at the per-user cap)."""
    import asyncio

    pulled: list[int] = []

    async def endless():  # type: ignore[no-untyped-def]
        while True:
            pulled.append(1)
            yield b": keepalive\n\n"
            await asyncio.sleep(0.05)

    def console(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=endless())

    real_client = httpx.AsyncClient

    def client_to_console(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("transport", httpx.MockTransport(console))  # streams, unlike ASGITransport
        return real_client(**kwargs)

    monkeypatch.setattr("intake.gateway.console.httpx.AsyncClient", client_to_console)
    proxy = ConsoleProxy(FastAPI(), base_url="http://console.test")
    first_chunk, gone = asyncio.Event(), asyncio.Event()
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        if message.get("body"):
            first_chunk.set()

    scope = {"type": "http", "method": "GET", "path": "/events", "raw_path": b"/events", "query_string": b"",
             "headers": [(b"host", b"gw")], "scheme": "http", "client": ("127.0.0.1", 5000), "app": None}
    call = asyncio.create_task(proxy(scope, receive, send))  # type: ignore[arg-type]
    await asyncio.wait_for(first_chunk.wait(), 5)
    gone.set()  # the browser navigates away
    await asyncio.wait_for(call, 5)  # the proxy returned: it no longer pulls from the console
    at_end = len(pulled)
    await asyncio.sleep(0.3)
    assert len(pulled) == at_end
